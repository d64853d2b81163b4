#!/usr/bin/env python3
"""Validates JSON Lines on standard input against docs/schema.json (or the
schema given): `tlsclose --format json CAPTURE | scripts/validate-json.py`.
Prints each invalid line with why, and exits 1 when there was one; exits 3
when the jsonschema package is missing."""
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print('jsonschema is not installed (pip install jsonschema)', file=sys.stderr)
    sys.exit(3)

here = os.path.dirname(os.path.abspath(__file__))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', 'docs', 'schema.json')
schema = json.load(open(path))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
bad = lines = 0
kinds = {}
for n, line in enumerate(sys.stdin, 1):
    if not line.strip():
        continue
    lines += 1
    obj = json.loads(line)
    kind = 'summary' if 'summary' in obj else 'group' if 'group_by' in obj else \
        'finding' if 'finding' in obj else 'flow'
    kinds[kind] = kinds.get(kind, 0) + 1
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        bad += 1
        # the best match names the failing branch of oneOf
        best = jsonschema.exceptions.best_match(errors)
        print(f'line {n} ({kind}): {best.message} at {list(best.absolute_path)}')
print(f'{lines} lines, {bad} invalid; ' + ', '.join(f'{k} {v}' for k, v in sorted(kinds.items())))
sys.exit(1 if bad else 0)
