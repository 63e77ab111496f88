//! The key AWS Sign-In binds a session's tokens to (DPoP, RFC 9449): a P-256 key made here,
//! kept as the SEC1 PEM the AWS CLI's cache holds, and a proof per token call — a JWT signed
//! with ES256 that carries the public key and names the call's method and URL.

use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::ToSec1Point;
use zeroize::Zeroizing;

use crate::{Error, Result};

pub struct Key(p256::SecretKey);

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Key {
    /// A new key from the OS's randomness.
    pub fn generate() -> Result<Self> {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            getrandom::getrandom(bytes.as_mut())
                .map_err(|e| Error::Invalid(format!("no randomness: {e}")))?;
            // Outside the curve's order (about 2^-128 of the time): another draw.
            if let Ok(k) = p256::SecretKey::from_slice(bytes.as_ref()) {
                return Ok(Self(k));
            }
        }
    }

    /// The key from a SEC1 PEM (`-----BEGIN EC PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        p256::SecretKey::from_sec1_pem(pem.trim())
            .map(Self)
            .map_err(|_| Error::Invalid("the DPoP key is not a P-256 SEC1 PEM key".into()))
    }

    /// The SEC1 PEM, public key included (as AWS's SDKs write and read it).
    pub fn to_pem(&self) -> Result<Zeroizing<String>> {
        self.0
            .to_sec1_pem(p256::pkcs8::LineEnding::LF)
            .map_err(|e| Error::Invalid(format!("cannot encode the DPoP key: {e}")))
    }

    /// The public key as a JWK's `x` and `y`.
    fn coordinates(&self) -> (String, String) {
        let point = self.0.public_key().to_sec1_point(false);
        let (x, y) = (point.x(), point.y());
        (
            x.map(|x| b64(x)).unwrap_or_default(),
            y.map(|y| b64(y)).unwrap_or_default(),
        )
    }

    /// The `DPoP` header's value for a POST to `url` at `iat` (seconds since the epoch).
    pub fn proof(&self, url: &str, iat: u64) -> Result<String> {
        let (x, y) = self.coordinates();
        let header = serde_json::json!({
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": {"kty": "EC", "crv": "P-256", "x": x, "y": y},
        });
        let mut jti = [0u8; 16];
        getrandom::getrandom(&mut jti)
            .map_err(|e| Error::Invalid(format!("no randomness: {e}")))?;
        let payload = serde_json::json!({
            "jti": b64(&jti),
            "htm": "POST",
            "htu": url,
            "iat": iat,
        });
        let message = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        );
        let signing = p256::ecdsa::SigningKey::from(&self.0);
        let signature: p256::ecdsa::Signature = signing.sign(message.as_bytes());
        Ok(format!("{message}.{}", b64(&signature.to_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn a_proof_verifies_with_the_key_it_carries() {
        let k = Key::generate().unwrap();
        let proof = k
            .proof(
                "https://us-east-1.signin.aws.amazon.com/v1/token",
                1_700_000_000,
            )
            .unwrap();
        let parts: Vec<&str> = proof.split('.').collect();
        assert_eq!(parts.len(), 3);
        let dec = |s: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap()
        };
        let header: serde_json::Value = serde_json::from_slice(&dec(parts[0])).unwrap();
        let payload: serde_json::Value = serde_json::from_slice(&dec(parts[1])).unwrap();
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(payload["htm"], "POST");
        assert_eq!(
            payload["htu"],
            "https://us-east-1.signin.aws.amazon.com/v1/token"
        );
        assert_eq!(payload["iat"], 1_700_000_000);
        let mut sec1 = vec![4u8];
        sec1.extend(dec(header["jwk"]["x"].as_str().unwrap()));
        sec1.extend(dec(header["jwk"]["y"].as_str().unwrap()));
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
        let sig = p256::ecdsa::Signature::from_slice(&dec(parts[2])).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        vk.verify(signed.as_bytes(), &sig).unwrap();
        assert!(vk.verify(b"another message", &sig).is_err());
        assert_ne!(
            k.proof("u", 1).unwrap(),
            k.proof("u", 1).unwrap(),
            "a jti per proof"
        );
    }

    #[test]
    fn the_pem_round_trips_and_reads_the_aws_clis() {
        let k = Key::generate().unwrap();
        let pem = k.to_pem().unwrap();
        assert!(
            pem.starts_with("-----BEGIN EC PRIVATE KEY-----\n"),
            "{}",
            pem.as_str()
        );
        assert_eq!(Key::from_pem(&pem).unwrap().coordinates(), k.coordinates());
        // The example key in the AWS SDK's documentation of the cache format.
        let theirs = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBMB/RwQERsVoqWRQG4zK8CnaAa5dfrpbm+9tFdBh3z4oAoGCCqGSM49\nAwEHoUQDQgAEWb1VLi1EA2hJaTz4yYuxSELvY+1GAfL+8rUTCAdiFid87Bf6GY+s\n2+1RpqDv0RpZiDIMCrZrsAh+RK9S3QCaGA==\n-----END EC PRIVATE KEY-----\n";
        let (x, y) = Key::from_pem(theirs).unwrap().coordinates();
        assert_eq!(x, "Wb1VLi1EA2hJaTz4yYuxSELvY-1GAfL-8rUTCAdiFic");
        assert_eq!(y, "fOwX-hmPrNvtUaag79EaWYgyDAq2a7AIfkSvUt0Amhg");
        assert!(Key::from_pem("not a key").is_err());
    }
}
