#!/usr/bin/env bash
# Restore a backup made by ops/backup.sh into DATABASE_URL and put the uploaded files back.
# Usage: ops/restore.sh /var/backups/workorder/<stamp>
#   APP_URL  where the app answers when it runs (default http://127.0.0.1:8000, gunicorn's WEB_BIND):
#            the restore refuses to run while /healthz answers there. Stop the app first
#            (systemctl stop workorder) and start it again afterwards.
# The database is restored into a clean schema in one transaction: everything created after the
# backup (a newer migration's tables) is gone, and a failure leaves the database as it was. The
# uploads are extracted aside and swapped in only once the extraction succeeded.
set -euo pipefail
source_dir="${1:?usage: restore.sh <backup folder>}"
app_dir="$(cd "$(dirname "$0")/.." && pwd)"
. "$app_dir/ops/pg-env.sh"
upload_dir="${UPLOAD_FOLDER:-$app_dir/instance/uploads}"
app_url="${APP_URL:-http://127.0.0.1:8000}"

if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=2)' \
    "$app_url" 2>/dev/null; then
  echo "restore.sh: the app still answers at $app_url — stop it first (systemctl stop workorder)" >&2
  exit 1
fi

(cd "$source_dir" && sha256sum --check --quiet SHA256SUMS)

# Extract the uploads first: a broken archive stops the restore before the database is touched.
upload_parent="$(dirname "$upload_dir")"
mkdir -p "$upload_parent"
incoming="$(mktemp -d "$upload_parent/.restore-uploads.XXXXXX")"
trap 'rm -rf "$incoming"' EXIT
tar -xzf "$source_dir/uploads.tar.gz" -C "$incoming"

{
  echo "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"
  pg_restore --no-owner --no-acl --file=- "$source_dir/db.dump"
} | psql --quiet --no-psqlrc --single-transaction --set=ON_ERROR_STOP=1 --output=/dev/null --dbname="$PG_URL"

if [ -d "$upload_dir" ]; then
  mv "$upload_dir" "$incoming.old"
fi
mv "$incoming" "$upload_dir"
rm -rf "$incoming.old"
trap - EXIT
echo "restored $source_dir"
