#!/usr/bin/env bash
# Restore a backup made by ops/backup.sh into DATABASE_URL (replacing its contents) and put the
# uploaded files back. Usage: ops/restore.sh /var/backups/workorder/<stamp>
# Stop the app first (systemctl stop workorder); start it again afterwards.
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL must point at the PostgreSQL database}"
source_dir="${1:?usage: restore.sh <backup folder>}"
app_dir="$(cd "$(dirname "$0")/.." && pwd)"
upload_dir="${UPLOAD_FOLDER:-$app_dir/instance/uploads}"
url="${DATABASE_URL/postgresql+psycopg:/postgresql:}"

(cd "$source_dir" && sha256sum --check --quiet SHA256SUMS)
pg_restore --clean --if-exists --no-owner --single-transaction --dbname="$url" "$source_dir/db.dump"
mkdir -p "$upload_dir"
find "$upload_dir" -mindepth 1 -delete
tar -xzf "$source_dir/uploads.tar.gz" -C "$upload_dir"
echo "restored $source_dir"
