#!/usr/bin/env bash
# Install the Microsoft 365 Agents Playground (a local Teams client; runs offline) for the
# end-to-end Teams tests, into .cache/playground (or $ARBOT_PLAYGROUND_DIR). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="0.2.28"
DIR="${ARBOT_PLAYGROUND_DIR:-.cache/playground}"
CLI="$DIR/node_modules/@microsoft/m365agentsplayground/cli.js"

if ! command -v npm >/dev/null; then
  echo "install-playground: npm not found; the Teams playground tests will be skipped" >&2
  exit 0
fi
if [ -f "$CLI" ] && grep -q "\"version\": \"$VERSION\"" "$DIR/node_modules/@microsoft/m365agentsplayground/package.json"; then
  echo "install-playground: @microsoft/m365agentsplayground $VERSION already in $DIR"
  exit 0
fi
mkdir -p "$DIR"
[ -f "$DIR/package.json" ] || echo '{"private": true}' > "$DIR/package.json"
npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "@microsoft/m365agentsplayground@$VERSION"
echo "install-playground: installed @microsoft/m365agentsplayground $VERSION in $DIR"
