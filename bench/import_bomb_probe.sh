#!/bin/bash
# Issue 13, defect 3: upload a ~300 KB gzip that inflates to 150 MB to a real gunicorn worker and
# print the worker's RSS rise and the answer. Uses a throwaway SQLite state (no Label Studio: the
# project row is written directly). Usage: bench/import_bomb_probe.sh [PORT]   (env FILE_LIMIT:
# IMPORT_MAX_FILE_BYTES, default 1 MiB as in the probe that found the defect).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd); PORT=${1:-18731}; VAR=$(mktemp -d)
PY=$ROOT/.venv/bin/python
export PYTHONPATH=$ROOT WORKBENCH_VAR_DIR=$VAR DATABASE_URL=sqlite:///$VAR/db.sqlite3
export IMPORT_MAX_FILE_BYTES=${FILE_LIMIT:-1048576} DEBUG=true
unset IMPORT_MAX_DECOMPRESSED_BYTES CELERY_BROKER_URL
cd "$ROOT"
$PY -c "
import gzip
with gzip.open('$VAR/bomb.csv.gz', 'wb', compresslevel=9) as z:
    z.write(b'text\n')
    for _ in range(150_000):
        z.write(b'a' * 999 + b'\n')"
$PY manage.py migrate -v0
TOKEN=$($PY manage.py shell -c "
from workbench.accounts.models import Role
from workbench.accounts.services import user_create
from workbench.projects.models import Project, ProjectMembership
u = user_create(email='ml@example.test', role=Role.ML_ENGINEER)
p = Project.objects.create(name='probe', kind='toxicity_binary', label_config_name='toxicity_binary',
                           label_config_sha256='x', annotators_per_item=1, ls_project_id=1)
ProjectMembership.objects.create(project=p, user=u)
print(u.auth_token.key)" | tail -1 | tr -d '\r\n ')
"$ROOT/.venv/bin/gunicorn" -w 1 -b 127.0.0.1:$PORT workbench.wsgi --timeout 300 --daemon --pid $VAR/pid \
    --error-logfile $VAR/err.log
trap 'kill $(cat $VAR/pid) 2>/dev/null; sleep 1; rm -rf $VAR' EXIT
for _ in $(seq 50); do curl -sf -o /dev/null -H "Authorization: Token $TOKEN" http://127.0.0.1:$PORT/api/me/ && break; sleep 0.2; done
WORKER=$(pgrep -P "$(cat $VAR/pid)" | head -1)
BEFORE=$(awk '/VmRSS/ {print $2}' /proc/$WORKER/status)
ANSWER=$(curl -s -w ' (HTTP %{http_code})' -H "Authorization: Token $TOKEN" -F "file=@$VAR/bomb.csv.gz" \
    http://127.0.0.1:$PORT/api/projects/1/items/import/)
PEAK=$(awk '/VmHWM/ {print $2}' /proc/$WORKER/status)
echo "upload $(stat -c %s $VAR/bomb.csv.gz) bytes gzip (150 MB inflated), IMPORT_MAX_FILE_BYTES=$IMPORT_MAX_FILE_BYTES"
echo "worker RSS ${BEFORE} kB -> peak ${PEAK} kB: +$(( (PEAK - BEFORE) / 1024 )) MB"
echo "answer: ${ANSWER:0:240}"
