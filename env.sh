export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr_hB
export REDIS_URL=redis://127.0.0.1:6379/3
export VAR_DIR=/work/hB/var/test LPRNVR_SKIP_PREFLIGHT=1
export PYTHONPATH=/work/hB/var/pydeps
