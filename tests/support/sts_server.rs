//! A local STS endpoint for tests, in a thread: either a recording proxy in front of moto (to
//! prove what was sent: action, serial, code, duration) or a stub that answers every request
//! with a real AWS error document. Only 127.0.0.1; stopped on drop.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One request as STS received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub action: String,
    pub params: BTreeMap<String, String>,
    /// The access key ID that signed it (from the SigV4 Authorization header).
    pub signer: String,
    /// The region it was signed for (the SigV4 credential scope).
    pub region: String,
    /// Seconds since the epoch, when it arrived.
    pub at: u64,
}

#[derive(Clone)]
pub enum Mode {
    /// Relay to this upstream (moto) and record.
    Forward(u16),
    /// Answer AssumeRole, GetSessionToken and GetFederationToken itself with made-up
    /// credentials valid for `secs`
    /// (key ids `ASIAISSUED000000000N`, numbered in order), so a whole chain shows on the wire
    /// without moto; anything else gets an error.
    Issue { secs: u64 },
    /// Relay to this upstream (moto), except `action`, which gets the AWS error `code`.
    FailOne {
        port: u16,
        action: &'static str,
        code: &'static str,
    },
    /// Relay to this upstream (moto), except that once `action` has been relayed (done by
    /// the upstream), the process `pid` is killed (SIGKILL) before it hears the answer.
    KillAfter {
        port: u16,
        action: &'static str,
        pid: Arc<std::sync::atomic::AtomicI32>,
    },
    /// Answer everything with this AWS error.
    Fail {
        status: u16,
        code: &'static str,
        message: &'static str,
    },
}

pub struct StsServer {
    pub port: u16,
    issued: Arc<std::sync::atomic::AtomicUsize>,
    log: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StsServer {
    pub fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let issued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (log2, stop2, issued2) = (Arc::clone(&log), Arc::clone(&stop), Arc::clone(&issued));
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (log, mode, issued) = (Arc::clone(&log2), mode.clone(), Arc::clone(&issued2));
                // One thread per connection: parallel clients must not queue behind each other.
                std::thread::spawn(move || {
                    let _ = serve(conn, &mode, &log, &issued);
                });
            }
        });
        Self {
            port,
            issued,
            log,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// The STS actions received, in order (GetCallerIdentity from the CLI included).
    pub fn actions(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.action).collect()
    }

    pub fn count(&self, action: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.action == action)
            .count()
    }

    /// How many sessions `Mode::Issue` handed out.
    pub fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }

    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
}

impl Drop for StsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Request {
    head: Vec<String>,
    body: Vec<u8>,
}

fn read_request(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let len = head
        .iter()
        .find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Some(Request { head, body }))
}

fn serve(
    conn: TcpStream,
    mode: &Mode,
    log: &Mutex<Vec<Recorded>>,
    issued: &std::sync::atomic::AtomicUsize,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    let Some(req) = read_request(&mut reader)? else {
        return Ok(());
    };
    let mut params = parse_form(&String::from_utf8_lossy(&req.body));
    if let Some(q) = req
        .head
        .first()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|p| p.split_once('?'))
    {
        params.extend(parse_form(q.1));
    }
    let action = params.remove("Action").unwrap_or_default();
    // Credential=AKID/DATE/REGION/sts/aws4_request
    let scope: Vec<String> = req
        .head
        .iter()
        .find_map(|h| {
            h.split_once("Credential=").map(|(_, rest)| {
                let end = rest.find([',', ' ']).unwrap_or(rest.len());
                rest[..end].split('/').map(str::to_owned).collect()
            })
        })
        .unwrap_or_default();
    let signer = scope.first().cloned().unwrap_or_default();
    let region = scope.get(2).cloned().unwrap_or_default();
    let act = action.clone();
    let signed_by = signer.clone();
    log.lock().unwrap().push(Recorded {
        action,
        params,
        signer,
        region,
        at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    });
    match mode {
        Mode::Forward(port) => forward(*port, &req, &mut out)?,
        Mode::FailOne { action, code, .. } if act == *action => {
            let body = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>refused by the test proxy</Message></Error><RequestId>r</RequestId></ErrorResponse>"
            );
            write!(
                out,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Mode::FailOne { port, .. } => forward(*port, &req, &mut out)?,
        Mode::KillAfter { port, action, pid } if act == *action => {
            forward(*port, &req, &mut Vec::new())?;
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid.load(Ordering::SeqCst)),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        Mode::KillAfter { port, .. } => forward(*port, &req, &mut out)?,
        Mode::Issue { secs }
            if matches!(
                act.as_str(),
                "AssumeRole" | "GetSessionToken" | "GetFederationToken"
            ) =>
        {
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            let exp =
                humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(*secs));
            let role = match act.as_str() {
                "AssumeRole" => {
                    "<AssumedRoleUser><AssumedRoleId>AROAISSUED:op-aws</AssumedRoleId>\
                     <Arn>arn:aws:sts::123456789012:assumed-role/Issued/op-aws</Arn></AssumedRoleUser>"
                }
                "GetFederationToken" => {
                    "<FederatedUser><FederatedUserId>123456789012:op-aws</FederatedUserId>\
                     <Arn>arn:aws:sts::123456789012:federated-user/op-aws</Arn></FederatedUser>\
                     <PackedPolicySize>6</PackedPolicySize>"
                }
                _ => "",
            };
            let body = format!(
                "<{act}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{act}Result>\
                 <Credentials><AccessKeyId>ASIAISSUED{n:010}</AccessKeyId>\
                 <SecretAccessKey>issued-secret-{n}</SecretAccessKey>\
                 <SessionToken>issued-token-{n}</SessionToken><Expiration>{exp}</Expiration>\
                 </Credentials>{role}</{act}Result><ResponseMetadata><RequestId>r-{n}</RequestId>\
                 </ResponseMetadata></{act}Response>"
            );
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        // IAM, for doctor's key ages: alice.smith, whose one key (the signer) dates from 2020.
        Mode::Issue { .. } if act == "GetUser" || act == "ListAccessKeys" => {
            let user = "<UserName>alice.smith</UserName>";
            let result = if act == "GetUser" {
                format!(
                    "<User><Path>/team/</Path>{user}<UserId>AIDAALICE</UserId>\
                     <Arn>arn:aws:iam::123456789012:user/team/alice.smith</Arn>\
                     <CreateDate>2020-01-01T00:00:00Z</CreateDate></User>"
                )
            } else {
                format!(
                    "{user}<AccessKeyMetadata><member>{user}<AccessKeyId>{signed_by}</AccessKeyId>\
                     <Status>Active</Status><CreateDate>2020-01-01T00:00:00Z</CreateDate></member>\
                     </AccessKeyMetadata><IsTruncated>false</IsTruncated>"
                )
            };
            let body = format!(
                "<{act}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><{act}Result>{result}\
                 </{act}Result><ResponseMetadata><RequestId>r-iam</RequestId></ResponseMetadata></{act}Response>"
            );
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Mode::Issue { .. } if act == "GetCallerIdentity" => {
            // Long-lived keys belong to the IAM user alice.smith; issued keys to the role.
            let arn = if signed_by.starts_with("AKIA") {
                "arn:aws:iam::123456789012:user/team/alice.smith"
            } else {
                "arn:aws:sts::123456789012:assumed-role/Issued/op-aws"
            };
            let body = format!(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                 <GetCallerIdentityResult><Arn>{arn}</Arn><UserId>AIDAALICE</UserId>\
                 <Account>123456789012</Account></GetCallerIdentityResult>\
                 <ResponseMetadata><RequestId>r-id</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            );
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Mode::Issue { .. } => {
            let body = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>\
                        <Message>not served by this stub</Message></Error></ErrorResponse>";
            write!(
                out,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Mode::Fail {
            status,
            code,
            message,
        } => {
            let body = format!(
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
                 <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n  \
                 <RequestId>4ab3a6b1-6f1b-4c1e-9e2f-000000000000</RequestId>\n</ErrorResponse>\n"
            );
            let reason = if *status == 403 {
                "Forbidden"
            } else {
                "Bad Request"
            };
            write!(
                out,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 x-amzn-RequestId: 4ab3a6b1-6f1b-4c1e-9e2f-000000000000\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
    }
    out.flush()?;
    let _ = out.shutdown(Shutdown::Both);
    Ok(())
}

fn parse_form(s: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

fn forward(port: u16, req: &Request, out: &mut impl Write) -> std::io::Result<()> {
    let mut up = TcpStream::connect(("127.0.0.1", port))?;
    let mut bytes = Vec::new();
    for (i, h) in req.head.iter().enumerate() {
        // One request per upstream connection: read the answer to EOF, then close both.
        if i > 0 && h.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        bytes.extend_from_slice(h.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"Connection: close\r\n\r\n");
    bytes.extend_from_slice(&req.body);
    up.write_all(&bytes)?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    out.write_all(&resp)
}

/// `reqs` without op-aws's own GetCallerIdentity before an AssumeRole (who is behind the keys,
/// for the session name), so what remains is the tool's own calls and the chain.
pub fn without_person_lookups(reqs: &[Recorded]) -> Vec<Recorded> {
    reqs.iter()
        .enumerate()
        .filter(|(i, r)| {
            !(r.action == "GetCallerIdentity"
                && reqs
                    .get(i + 1)
                    .is_some_and(|n| n.action == "AssumeRole" || n.action == "GetSessionToken"))
        })
        .map(|(_, r)| r.clone())
        .collect()
}
