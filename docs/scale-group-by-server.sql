-- tlsclose --group-by server, and the keep-alive races, over many captures'
-- JSON Lines (one file per capture or rotation: tlsclose --format json).
-- Run in DuckDB with the files in out/: duckdb -c ".read docs/scale-group-by-server.sql"
-- flow lines only (the summary line that ends each file has no ending),
-- read once into a table
CREATE OR REPLACE TABLE flows AS
  SELECT * FROM read_json('out/*.jsonl', format = 'newline_delimited',
                          union_by_name = true, sample_size = -1)
  WHERE ending IS NOT NULL;

-- the server's own closes of idle connections (docs/AUDIT.md)
CREATE OR REPLACE VIEW server_idle AS
  SELECT server, idle_before_first_signal AS idle
  FROM flows
  WHERE initiator = 'server' AND idle_before_first_signal >= 0.1;

-- for each close, the closes in the window [idle, idle + max(50 ms, 2 %)]
CREATE OR REPLACE VIEW windows AS
  SELECT a.server, a.idle AS start, count(*) AS closes
  FROM (SELECT DISTINCT server, idle FROM server_idle) a JOIN server_idle b
    ON a.server = b.server AND b.idle >= a.idle
   AND b.idle <= a.idle + greatest(0.05, 0.02 * a.idle)
  GROUP BY a.server, a.idle;

-- the densest window per server (the first on a tie), if it holds most
CREATE OR REPLACE VIEW timeouts AS
  SELECT w.server, w.start, w.closes, n.closes AS idle_closes
  FROM windows w JOIN (SELECT server, count(*) AS closes FROM server_idle GROUP BY server) n
    USING (server)
  WHERE w.closes * 2 > n.closes
  QUALIFY row_number() OVER (PARTITION BY w.server ORDER BY w.closes DESC, w.start) = 1;

CREATE OR REPLACE VIEW by_server AS
  SELECT f.server,
         count(*) AS flows,
         count(*) FILTER (ending = 'close_notify-then-fin') AS close_notify_then_fin,
         count(*) FILTER (ending = 'fin-only') AS fin_only,
         count(*) FILTER (ending = 'rst') AS rst,
         count(*) FILTER (ending = 'data-after-alert') AS data_after_alert,
         count(*) FILTER (ending = 'open') AS open,
         count(*) FILTER (closer = 'server') AS closed_by_server,
         count(*) FILTER (keepalive_race) AS keepalive_races,
         median(idle_before_close) AS idle_median,
         max(idle_before_close) AS idle_max,
         (SELECT median(s.idle) FROM server_idle s, timeouts t
           WHERE s.server = f.server AND t.server = f.server
             AND s.idle >= t.start AND s.idle <= t.start + greatest(0.05, 0.02 * t.start)
         ) AS server_idle_timeout_s,
         (SELECT closes FROM timeouts t WHERE t.server = f.server) AS server_idle_timeout_closes
  FROM flows f
  GROUP BY f.server;

SELECT * FROM by_server ORDER BY flows DESC, server;
