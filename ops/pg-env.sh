# Sourced by ops/backup.sh and ops/restore.sh: turns DATABASE_URL into libpq's environment so that no
# command line carries the password (`ps` shows every process's arguments to every user).
#   PG_URL      the URL without its password (for --dbname)
#   PGPASSWORD  the password, exported to the child processes only (never in their arguments)
: "${DATABASE_URL:?DATABASE_URL must point at the PostgreSQL database}"
pg_split="$(python3 - <<'PY'
import os
from urllib.parse import unquote, urlsplit, urlunsplit

url = urlsplit(os.environ["DATABASE_URL"].replace("postgresql+psycopg:", "postgresql:", 1))
netloc = url.hostname or ""
if url.port:
    netloc = f"{netloc}:{url.port}"
if url.username:
    netloc = f"{url.username}@{netloc}"
print(urlunsplit((url.scheme, netloc, url.path, url.query, "")))
print(unquote(url.password or ""))
PY
)"
PG_URL="$(printf '%s\n' "$pg_split" | sed -n 1p)"
pg_password="$(printf '%s\n' "$pg_split" | sed -n 2p)"
unset pg_split
if [ -n "$pg_password" ]; then
  export PGPASSWORD="$pg_password"
fi
unset pg_password
