#!/usr/bin/env bash
# Back up the plant: the PostgreSQL database (pg_dump custom format) and the uploaded files.
#   DATABASE_URL           postgresql://... (required; the password never reaches a command line)
#   UPLOAD_FOLDER          uploaded design files (default: <app>/instance/uploads)
#   BACKUP_DIR             where backups go (default /var/backups/workorder)
#   RETENTION_DAYS         delete backups older than this (default 30)
#   TEXTFILE_COLLECTOR_DIR the node exporter's textfile folder (default /var/lib/prometheus/node-exporter);
#                          a success writes workorder_backup.prom there (last success time, size) for the
#                          alert WorkorderBackupMissing. Skipped when the folder does not exist.
# Writes BACKUP_DIR/<stamp>/{db.dump,uploads.tar.gz,SHA256SUMS} and prints the folder. The backup is made
# in BACKUP_DIR/.partial-<stamp> and renamed only once complete: a failed run leaves no folder that the
# restore drill could take for a backup. One run at a time (a lock in BACKUP_DIR).
set -euo pipefail
umask 077  # the dump holds password hashes and customer data: owner only
app_dir="$(cd "$(dirname "$0")/.." && pwd)"
. "$app_dir/ops/pg-env.sh"
upload_dir="${UPLOAD_FOLDER:-$app_dir/instance/uploads}"
backup_dir="${BACKUP_DIR:-/var/backups/workorder}"
retention="${RETENTION_DAYS:-30}"
textfile_dir="${TEXTFILE_COLLECTOR_DIR:-/var/lib/prometheus/node-exporter}"
# Only folders named like this are backups: retention never touches anything else in BACKUP_DIR.
stamp_glob='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z'

mkdir -p "$backup_dir"
exec 9>"$backup_dir/.lock"
if ! flock --nonblock 9; then
  echo "backup.sh: another backup is running (lock $backup_dir/.lock)" >&2
  exit 75
fi

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$backup_dir/$stamp"
partial="$backup_dir/.partial-$stamp"
trap 'rm -rf "$partial"' EXIT
mkdir "$partial"
pg_dump --format=custom --no-owner --file="$partial/db.dump" --dbname="$PG_URL"
if [ -d "$upload_dir" ]; then
  tar -czf "$partial/uploads.tar.gz" -C "$upload_dir" .
else
  tar -czf "$partial/uploads.tar.gz" --files-from /dev/null
fi
(cd "$partial" && sha256sum db.dump uploads.tar.gz > SHA256SUMS)
mv "$partial" "$target"
trap - EXIT

# Retention by age: whole backup folders older than RETENTION_DAYS, and left-overs of runs that died.
find "$backup_dir" -mindepth 1 -maxdepth 1 -type d -name "$stamp_glob" -mtime "+$retention" -exec rm -rf {} +
find "$backup_dir" -mindepth 1 -maxdepth 1 -type d -name ".partial-$stamp_glob" -mmin +1440 -exec rm -rf {} +

if [ -d "$textfile_dir" ]; then
  size="$(du -sb "$target" | cut -f1)"
  metrics="$textfile_dir/workorder_backup.prom"
  # Written aside and renamed: the node exporter never reads half a file.
  cat > "$metrics.$$" <<PROM
# HELP workorder_backup_last_success_timestamp_seconds Unix time of the last successful ops/backup.sh run
# TYPE workorder_backup_last_success_timestamp_seconds gauge
workorder_backup_last_success_timestamp_seconds $(date +%s)
# HELP workorder_backup_last_size_bytes Size of the last successful backup
# TYPE workorder_backup_last_size_bytes gauge
workorder_backup_last_size_bytes $size
PROM
  chmod 644 "$metrics.$$"
  mv "$metrics.$$" "$metrics"
fi
echo "$target"
