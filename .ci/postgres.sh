#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages (if missing), start it on loopback and create the
# test role and database; prints the URL for CRSWATCH_TEST_POSTGRES_URL on stdout.
# Idempotent: safe to run on a machine where it already ran.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
  pg_ctlcluster "$version" main start >&2
fi
# listen_addresses defaults to localhost: the server is reachable on 127.0.0.1 only.
as_postgres() { su postgres -c "$1"; }
if ! as_postgres "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='crswatch'\"" | grep -q 1; then
  as_postgres "psql -qc \"CREATE ROLE crswatch LOGIN CREATEDB PASSWORD 'crswatch'\"" >&2
fi
if ! as_postgres "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='crswatch_test'\"" | grep -q 1; then
  as_postgres "createdb -O crswatch crswatch_test" >&2
fi
echo "postgresql+psycopg://crswatch:crswatch@127.0.0.1:5432/crswatch_test"
