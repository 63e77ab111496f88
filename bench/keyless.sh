#!/usr/bin/env bash
# shellcheck disable=SC2154 # bench_home comes from lib.sh.
# The keyless proxy (`op-aws run --keyless`): the latency it adds to one SDK call (boto3's
# sts.get_caller_identity against moto, paired round by round with the same call signed with
# the real session straight to moto; medians), and its memory while 512 MiB go up through it
# (`aws s3 cp`, multipart): the proxy's peak RSS before and after.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_vault >/dev/null
bench_moto
port=$moto_port
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export PATH="$tools/venv/bin:$PATH"
mkdir -p "$bench_home/.aws"
printf '[profile base]\nop_aws_item = prod\n[profile admin]\nrole_arn = arn:aws:iam::210987654321:role/Admin\nsource_profile = base\n' >"$AWS_CONFIG_FILE"
"$OP_AWS" export --profile admin --format json >"$bench_home/real.json"
python3 -c "import boto3; boto3.client('s3').create_bucket(Bucket='bench')" \
  2>/dev/null || AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x python3 -c "import boto3; boto3.client('s3').create_bucket(Bucket='bench')"
truncate -s "${SIZE:-512M}" "$bench_home/big.bin"
cat >"$bench_home/bench.py" <<'PY'
import json, os, statistics, subprocess, sys, time
import boto3
rounds = int(sys.argv[1])
real = json.load(open(sys.argv[2]))
direct = boto3.client("sts", endpoint_url=os.environ["BENCH_MOTO"],
    aws_access_key_id=real["AccessKeyId"], aws_secret_access_key=real["SecretAccessKey"],
    aws_session_token=real["SessionToken"])
proxied = boto3.client("sts")
for c in (direct, proxied):
    for _ in range(20):
        c.get_caller_identity()
d, p, diff = [], [], []
for _ in range(rounds):
    t0 = time.perf_counter(); direct.get_caller_identity(); t1 = time.perf_counter()
    proxied.get_caller_identity(); t2 = time.perf_counter()
    d.append(t1 - t0); p.append(t2 - t1); diff.append((t2 - t1) - (t1 - t0))
ms = lambda x: statistics.median(x) * 1000
print(f"sts get-caller-identity, {rounds} paired rounds: direct {ms(d):.3f} ms, "
      f"through the proxy {ms(p):.3f} ms, added {ms(diff):+.3f} ms (medians)")
def hwm():
    for line in open(f"/proc/{os.getppid()}/status"):
        if line.startswith(("VmHWM", "VmRSS")):
            yield line.split()[1]
before = list(hwm())
t = time.perf_counter()
subprocess.run(["aws", "s3", "cp", "--only-show-errors", sys.argv[3], "s3://bench/big.bin"], check=True)
took = time.perf_counter() - t
after = list(hwm())
size = os.path.getsize(sys.argv[3]) >> 20
print(f"{size} MiB up through the proxy in {took:.1f} s: proxy peak RSS {int(before[0])//1024} MiB "
      f"before, {int(after[0])//1024} MiB after (RSS now {int(after[1])//1024} MiB)")
PY
BENCH_MOTO=$AWS_ENDPOINT_URL "$OP_AWS" run --keyless --profile admin -- \
  python3 "$bench_home/bench.py" "${RUNS:-500}" "$bench_home/real.json" "$bench_home/big.bin"
