#!/bin/sh
# Installs Mermaid (the real renderer, from npm) into target/mermaid, where
# crates/tlsclose/tests/pictures.rs finds it to render the Markdown
# report's diagrams in headless Chromium. Without it the test checks the
# diagrams against the grammar only (and says so).
set -e
cd "$(dirname "$0")/.."
mkdir -p target/mermaid
npm install --prefix target/mermaid --no-audit --no-fund mermaid@11
