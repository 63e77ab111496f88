"""The soak's load and report (bench/soak.sh sets up the vault, moto and the profiles).

argv: OP_AWS SOCKET SECONDS CLIENTS. Each client thread draws a request kind per round; the
first SLOW clients only ever trickle requests too slowly; one client also cycles lock/unlock
and another clears the session cache now and then (so sessions are refreshed from moto).
"""

import collections
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time

OP_AWS, SOCK, SECONDS, CLIENTS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
PASSPHRASE = "soak passphrase\n"
ITEMS = 10
SLOW = 5
LOCK_EVERY = float(os.environ.get("SOAK_LOCK_EVERY", "300"))
CLEAR_EVERY = float(os.environ.get("SOAK_CLEAR_EVERY", "120"))
WARMUP = 30.0

start = time.monotonic()
deadline = start + SECONDS
lock = threading.Lock()
latency = collections.defaultdict(list)  # kind -> [ms]
served = collections.Counter()  # kind -> answers
errors = collections.Counter()  # (kind, why) -> count
wrong = []  # (kind, what)
writes_done = []  # item titles op-aws said it wrote
newest = {}  # client -> the newest title it wrote (kept)
removed = []  # titles op-aws said it removed
samples = []  # (t, pid, rss_kib, fds, threads)
unlocked = threading.Event()
unlocked.set()


def record(kind, t0, ok=True, why=None):
    ms = (time.monotonic() - t0) * 1000
    with lock:
        if ok:
            served[kind] += 1
            latency[kind].append(ms)
        else:
            errors[(kind, why)] += 1


def agent_call(line, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    try:
        s.connect(SOCK)
        s.sendall(line)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


def raw(kind, req, check):
    t0 = time.monotonic()
    try:
        data = agent_call(json.dumps(req).encode() + b"\n")
    except (FileNotFoundError, ConnectionRefusedError):
        return record(kind, t0, False, "no agent")
    except OSError as e:
        return record(kind, t0, False, type(e).__name__)
    if not data:
        return record(kind, t0, False, "closed")
    try:
        r = json.loads(data)
    except ValueError:
        # Cut off mid-answer: the agent exits on `lock` (the lock/unlock client) at once.
        return record(kind, t0, False, "answer cut off")
    if r.get("error"):
        return record(kind, t0, False, r.get("code") or r["error"][:40])
    problem = check(r)
    if problem:
        with lock:
            wrong.append((kind, problem))
    record(kind, t0)


def check_item(n):
    def check(r):
        item = json.loads(r["value"])
        fields = {f["label"]: f["value"] for f in item["fields"]}
        if item["title"] != f"soak{n}":
            return f"asked for soak{n}, got {item['title']}"
        if fields.get("Access Key ID") != f"AKIASOAK00000000000{n}":
            return f"soak{n}: key id {fields.get('Access Key ID')}"
        if fields.get("Secret Access Key") != f"soaksecret{n}":
            return f"soak{n}: another secret"
        return None
    return check


def cli(kind, args, stdin="", expect=None, gone_ok=False):
    t0 = time.monotonic()
    p = subprocess.run([OP_AWS, *args], input=stdin, capture_output=True, text=True, timeout=120)
    if p.returncode != 0 and gone_ok and "no item named" in p.stderr:
        record(kind, t0)
        return p
    if p.returncode != 0:
        why = (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[0]
        # One line per kind of error, not per item written.
        why = re.sub(r'"w-\d+-\d+"', '"w-…"', why)
        return record(kind, t0, False, why[:70])
    if expect:
        problem = expect(p.stdout)
        if problem:
            with lock:
                wrong.append((kind, problem))
    record(kind, t0)
    return p


def malformed(rng):
    t0 = time.monotonic()
    choice = rng.randrange(4)
    if choice == 0:
        line = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))).replace(b"\n", b"") + b"\n"
    elif choice == 1:
        line = b'{"op":"item","name":' + b"[" * 500 + b"\n"
    elif choice == 2:
        line = b'{"op":"unlock","identity":"AGE-SECRET-KEY-1NOTAKEY","idle_secs":60}\n'
    else:
        line = b"x" * (70 * 1024)  # over the limit, no newline
    try:
        data = agent_call(line)
    except OSError as e:
        return record("malformed", t0, False, type(e).__name__)
    if not data:
        # Closed unanswered: the agent exiting on `lock`.
        return record("malformed", t0, False, "closed")
    try:
        r = json.loads(data)
    except ValueError:
        return record("malformed", t0, False, "answer cut off")
    # A refusal is the answer wanted; anything else is wrong.
    if not r.get("error"):
        with lock:
            wrong.append(("malformed", f"accepted {line[:40]!r}"))
    record("malformed", t0)


def slow(rng):
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(15)
    try:
        s.connect(SOCK)
        for b in b'{"op":"status"}'[: rng.randrange(3, 14)]:
            s.send(bytes([b]))
            time.sleep(0.5)
        data = s.recv(65536)
        r = json.loads(data) if data else {}
        if r and not r.get("error"):
            with lock:
                wrong.append(("slow", "a request past the deadline was answered"))
        record("slow", t0)
    except (BrokenPipeError, ConnectionResetError):
        # The agent cut it off at its request deadline: what is wanted.
        record("slow", t0)
    except OSError as e:
        record("slow", t0, False, type(e).__name__)
    finally:
        s.close()


def client(idx):
    rng = random.Random(idx)
    writes = 0
    stale = []  # titles this client added and has not removed yet
    next_clear = start + CLEAR_EVERY
    while time.monotonic() < deadline:
        if idx < SLOW:
            slow(rng)
            continue
        if idx == SLOW and time.monotonic() >= next_clear:
            next_clear += CLEAR_EVERY
            cli("cache-clear", ["cache", "clear"])
            continue
        n = rng.randrange(ITEMS)
        kind = rng.choices(
            ["status", "item", "list", "run-item", "run-role", "malformed", "write"],
            weights=[30, 30, 5, 10, 10, 10, 2],
        )[0]
        if kind == "status":
            raw("status", {"op": "status"}, lambda r: None if "status" in r else "no status")
        elif kind == "item":
            raw("item", {"op": "item", "name": f"soak{n}"}, check_item(n))
        elif kind == "list":
            raw("list", {"op": "list"}, lambda r: None if len(r.get("list", [])) >= ITEMS else "items missing")
        elif kind == "run-item":
            cli("run-item", ["run", "--item", f"soak{n}", "--", "printenv", "AWS_ACCESS_KEY_ID"],
                expect=lambda out, n=n: None if out.strip() == f"AKIASOAK00000000000{n}" else f"run soak{n}: {out.strip()}")
        elif kind == "run-role":
            cli("run-role", ["run", "--profile", f"role{n}", "--", "printenv", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"],
                expect=lambda out: None if out.startswith("ASIA") and len(out.split()) == 2 else f"role: {out.strip()[:30]}")
        elif kind == "malformed":
            malformed(rng)
        else:
            # A client's items are added and then removed once a newer one is in: the vault
            # stays the same size, so the agent's memory measures the agent, not the vault.
            title = f"w-{idx}-{writes}"
            writes += 1
            p = cli("write", ["item", "add", title, "--set", f"Access Key ID=AKIAW{idx:03d}{writes:011d}",
                              "--set-secret", "Secret Access Key"], stdin="w\n")
            if p is not None:
                with lock:
                    writes_done.append(title)
                    newest[idx] = title
                for old in list(stale):
                    # An earlier try whose answer was cut off (a lock ending the agent) may have
                    # removed it: gone is what was asked.
                    p = cli("remove", ["item", "rm", old], gone_ok=True)
                    if p is not None:
                        stale.remove(old)
                        with lock:
                            removed.append(old)
                stale.append(title)


def locker():
    while time.monotonic() + LOCK_EVERY < deadline:
        time.sleep(LOCK_EVERY)
        cli("lock", ["lock"])
        time.sleep(1)
        cli("unlock", ["unlock", "--passphrase-stdin"], stdin=PASSPHRASE)


def sampler():
    while time.monotonic() < deadline:
        t = time.monotonic() - start
        try:
            r = json.loads(agent_call(b'{"op":"status"}\n', timeout=2))
            pid = r["status"]["pid"]
            st = open(f"/proc/{pid}/status").read()
            rss = int(st.split("VmRSS:")[1].split()[0])
            threads = int(st.split("Threads:")[1].split()[0])
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            with lock:
                samples.append((t, pid, rss, fds, threads))
        except (OSError, ValueError, KeyError, IndexError):
            pass
        time.sleep(1)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
threads += [threading.Thread(target=locker, daemon=True), threading.Thread(target=sampler, daemon=True)]
for t in threads:
    t.start()
last = start
while any(t.is_alive() for t in threads[:CLIENTS]):
    time.sleep(5)
    if time.monotonic() - last >= 60:
        last = time.monotonic()
        with lock:
            print(f"soak: {int(last - start)}s: {sum(served.values())} answers, "
                  f"{sum(errors.values())} errors, {len(wrong)} wrong", file=sys.stderr, flush=True)

# Writes: every one op-aws said it made is in the vault.
listing = subprocess.run([OP_AWS, "item", "list", "--json"], capture_output=True, text=True)
if listing.returncode != 0:
    subprocess.run([OP_AWS, "unlock", "--passphrase-stdin"], input=PASSPHRASE, text=True, capture_output=True)
    listing = subprocess.run([OP_AWS, "item", "list", "--json"], capture_output=True, text=True)
titles = set()
for entry in json.loads(listing.stdout or "[]"):
    titles.add(entry["title"] if isinstance(entry, dict) else entry)
lost = [w for w in newest.values() if w not in titles] + [f"{r} (removed, back)" for r in removed if r in titles]

print(f"\nsoak: {SECONDS}s, {CLIENTS} clients ({SLOW} slow), lock/unlock every {LOCK_EVERY:.0f}s, "
      f"cache clear every {CLEAR_EVERY:.0f}s")
print(f"{'kind':<12}{'served':>9}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
for kind in sorted(set(served) | {k for k, _ in errors}):
    v = latency[kind]
    print(f"{kind:<12}{served[kind]:>9}{pct(v, 50):>10.1f}{pct(v, 99):>10.1f}{max(v, default=float('nan')):>10.1f}")
print(f"requests served: {sum(served.values())}")
print("errors by kind:")
for (kind, why), n in sorted(errors.items(), key=lambda x: -x[1]):
    print(f"  {n:>7}  {kind}: {why}")
print(f"wrong answers: {len(wrong)}")
for kind, what in wrong[:20]:
    print(f"  {kind}: {what}")
print(f"writes: {len(writes_done)} added, {len(removed)} removed, {len(lost)} lost {lost[:10]}")

# The agent's figures, per agent process (lock ends one, unlock starts the next), after warm-up.
flat = True
by_pid = collections.defaultdict(list)
for s in samples:
    by_pid[s[1]].append(s)
print(f"agent samples: {len(samples)} (every second), {len(by_pid)} agent processes")
for pid, ss in by_pid.items():
    warm = [s for s in ss if s[0] - ss[0][0] >= WARMUP]
    if len(warm) < 20:
        continue
    tenth = max(1, len(warm) // 10)
    head, tail = warm[:tenth], warm[-tenth:]
    med = lambda xs, i: sorted(x[i] for x in xs)[len(xs) // 2]
    rss0, rss1, fd0, fd1 = med(head, 2), med(tail, 2), med(head, 3), med(tail, 3)
    grows = rss1 > rss0 * 1.10 + 1024 or fd1 > fd0 + 8
    flat &= not grows
    print(f"  pid {pid}: {len(ss)}s; RSS {min(s[2] for s in warm)}..{max(s[2] for s in warm)} KiB "
          f"(median first/last tenth {rss0}/{rss1}); fds {min(s[3] for s in warm)}..{max(s[3] for s in warm)} "
          f"({fd0}/{fd1}); threads {min(s[4] for s in warm)}..{max(s[4] for s in warm)}"
          f"{'  GROWS' if grows else ''}")
status_p99 = pct(latency["status"], 99)
checks = [
    ("0 wrong answers", not wrong),
    ("0 lost writes", not lost),
    ("RSS and fds flat after warm-up", flat),
    (f"p99 of status under 50 ms with slow clients ({status_p99:.1f} ms)", status_p99 < 50),
]
for what, ok in checks:
    print(f"{'PASS' if ok else 'FAIL'}: {what}")
sys.exit(0 if all(ok for _, ok in checks) else 1)
