#!/usr/bin/env bash
# Back up the plant: the PostgreSQL database (pg_dump custom format) and the uploaded files.
#   DATABASE_URL   postgresql://... (required)
#   UPLOAD_FOLDER  uploaded design files (default: <app>/instance/uploads)
#   BACKUP_DIR     where backups go (default /var/backups/workorder)
#   RETENTION_DAYS delete backups older than this (default 30)
# Writes BACKUP_DIR/<stamp>/{db.dump,uploads.tar.gz,SHA256SUMS} and prints the folder.
set -euo pipefail
umask 077  # the dump holds password hashes and customer data: owner only
: "${DATABASE_URL:?DATABASE_URL must point at the PostgreSQL database}"
app_dir="$(cd "$(dirname "$0")/.." && pwd)"
upload_dir="${UPLOAD_FOLDER:-$app_dir/instance/uploads}"
backup_dir="${BACKUP_DIR:-/var/backups/workorder}"
retention="${RETENTION_DAYS:-30}"
url="${DATABASE_URL/postgresql+psycopg:/postgresql:}"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$backup_dir/$stamp"
mkdir -p "$target"
pg_dump --format=custom --no-owner --file="$target/db.dump" "$url"
if [ -d "$upload_dir" ]; then
  tar -czf "$target/uploads.tar.gz" -C "$upload_dir" .
else
  tar -czf "$target/uploads.tar.gz" --files-from /dev/null
fi
(cd "$target" && sha256sum db.dump uploads.tar.gz > SHA256SUMS)

# Retention by age: whole backup folders older than RETENTION_DAYS.
find "$backup_dir" -mindepth 1 -maxdepth 1 -type d -mtime "+$retention" -exec rm -rf {} +
echo "$target"
