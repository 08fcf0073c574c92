//! The coordinator: collects the co-signatures a receipt needs from co-signing services
//! (`tessera attest serve`). For a per-key attestor set it asks each service for its signature
//! until `threshold` attestors signed; for a group it runs FROST's two rounds with `t`
//! services, aggregates their shares into one signature under the group key, and checks it
//! before anything is submitted. A service that refuses, and why, or one that sends a bad
//! share, is named in the error. Its requests are signed ([`Coordinator::signing_as`]): by the
//! receipt's worker key when it asks for co-signatures, by the coordinator's key when it runs
//! a key generation.

use crate::group::{self, Identifier};
use crate::wire::*;
use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, bail, ensure, Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::BTreeMap;
use std::time::Duration;
use tessera::state::{AttestorMode, Network};
use tessera_client::receipt::{ReceiptFile, SignedReceipt};

/// Co-signing services, by base URL.
pub struct Coordinator {
    http: reqwest::blocking::Client,
    services: Vec<String>,
    signer: Option<Keypair>,
}

/// A service's answer that is not a signature.
struct Declined {
    service: String,
    reason: String,
}

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.service, self.reason)
    }
}

impl Coordinator {
    pub fn new(services: &[String]) -> Result<Self> {
        ensure!(!services.is_empty(), "name at least one co-signing service");
        Ok(Self {
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            services: services
                .iter()
                .map(|url| url.trim_end_matches('/').to_string())
                .collect(),
            signer: None,
        })
    }

    /// Signs every request with `signer`: the receipts' worker key, or a key generation's
    /// coordinator key.
    pub fn signing_as(mut self, signer: &Keypair) -> Self {
        self.signer = Some(signer.insecure_clone());
        self
    }

    /// `signed` (by the worker) with the co-signatures `network`'s attestor set takes, from
    /// the services, given `evidence` of the work; or, for a job whose `client` runs one of
    /// the services, with the client's signature (payment only) when the attestors do not
    /// sign.
    pub fn cosign(
        &self,
        signed: &SignedReceipt,
        evidence: &Evidence,
        network: &Network,
        client: Option<Pubkey>,
    ) -> Result<SignedReceipt> {
        let request = CosignRequest {
            receipt: ReceiptFile::from_signed(signed),
            evidence: evidence.clone(),
        };
        let by_attestors = match network.attestors.mode {
            AttestorMode::Keys if network.attestors.threshold > 0 => {
                self.per_key(signed, &request, network)
            }
            AttestorMode::Keys => Err(anyhow!("the network names no attestors")),
            AttestorMode::Group => self.as_group(signed, &request, network),
        };
        match (by_attestors, client) {
            (Ok(cosigned), _) => Ok(cosigned),
            (Err(error), Some(client)) => {
                self.by_client(signed, &request, client)
                    .map_err(|by_client| {
                        anyhow!("{error:#}; and the client did not sign: {by_client:#}")
                    })
            }
            (Err(error), None) => Err(error),
        }
    }

    /// The worker's receipt with the signature of the job's `client`, from the service it runs.
    fn by_client(
        &self,
        signed: &SignedReceipt,
        request: &CosignRequest,
        client: Pubkey,
    ) -> Result<SignedReceipt> {
        let (cosigned, declined) = self.collect(signed, request, 1, |key| *key == client);
        if cosigned.signatures.len() > signed.signatures.len() {
            return Ok(cosigned);
        }
        let reasons: Vec<String> = declined.iter().map(ToString::to_string).collect();
        bail!(
            "no service signed as the client {client}: {}",
            reasons.join("; ")
        )
    }

    fn per_key(
        &self,
        signed: &SignedReceipt,
        request: &CosignRequest,
        network: &Network,
    ) -> Result<SignedReceipt> {
        let attestors = &network.attestors;
        let needed = attestors.threshold as usize;
        ensure!(needed > 0, "the network names no attestors");
        let (cosigned, declined) =
            self.collect(signed, request, needed, |key| attestors.contains(key));
        enough(
            cosigned.signatures.len() - signed.signatures.len(),
            needed,
            &declined,
        )?;
        Ok(cosigned)
    }

    /// Asks the services in order (`/v1/cosign`) until `needed` distinct keys that `takes`
    /// accepts have signed: the receipt with their signatures, and who declined and why.
    fn collect(
        &self,
        signed: &SignedReceipt,
        request: &CosignRequest,
        needed: usize,
        takes: impl Fn(&Pubkey) -> bool,
    ) -> (SignedReceipt, Vec<Declined>) {
        let mut cosigned = signed.clone();
        let mut declined = Vec::new();
        for service in &self.services {
            if cosigned.signatures.len() - signed.signatures.len() >= needed {
                break;
            }
            let answer = match self.post::<_, Cosigned>(service, "/v1/cosign", request) {
                Ok(answer) => answer,
                Err(declined_by) => {
                    declined.push(declined_by);
                    continue;
                }
            };
            let new = |key: &Pubkey| {
                takes(key) && !cosigned.signatures.iter().any(|(signer, _)| signer == key)
            };
            match signature_by(&answer, signed, new) {
                Ok(signature) => cosigned.signatures.push(signature),
                Err(reason) => declined.push(Declined {
                    service: service.clone(),
                    reason,
                }),
            }
        }
        (cosigned, declined)
    }

    fn as_group(
        &self,
        signed: &SignedReceipt,
        request: &CosignRequest,
        network: &Network,
    ) -> Result<SignedReceipt> {
        let group_key = network
            .attestors
            .group_key()
            .context("the network's attestor set has no group key")?;
        let needed = network.attestors.threshold as usize;
        let mut committed: Vec<(String, Committed)> = Vec::new();
        let mut declined = Vec::new();
        for service in &self.services {
            if committed.len() == needed {
                break;
            }
            match self.post::<_, Committed>(service, "/v1/group/commit", request) {
                Ok(answer) => committed.push((service.clone(), answer)),
                Err(declined_by) => declined.push(declined_by),
            }
        }
        enough(committed.len(), needed, &declined)?;
        let public = self.public_key_package(&committed[0].0, group_key)?;
        let commitments = committed
            .iter()
            .map(|(_, answer)| (answer.identifier, answer.commitments))
            .collect();
        let package = group::signing_package(commitments, &signed.receipt.to_bytes());
        let mut shares = BTreeMap::new();
        let mut by_member: BTreeMap<Identifier, String> = BTreeMap::new();
        for (service, answer) in &committed {
            let body = SignRequest {
                session: answer.session.clone(),
                package: package.clone(),
            };
            let shared: Shared = self
                .post(service, "/v1/group/sign", &body)
                .map_err(|declined| anyhow!("round two: {declined}"))?;
            by_member.insert(shared.identifier, service.clone());
            shares.insert(shared.identifier, shared.share);
        }
        let signature =
            group::aggregate(&package, &shares, &public).map_err(|error| match error {
                group::GroupError::BadShares(culprits) => {
                    let named: Vec<String> = culprits
                        .iter()
                        .map(|id| by_member.get(id).cloned().unwrap_or(format!("{id:?}")))
                        .collect();
                    anyhow!(
                        "these services sent a signature share that does not verify: {}",
                        named.join(", ")
                    )
                }
                other => anyhow!("the group signature could not be made: {other}"),
            })?;
        let mut cosigned = signed.clone();
        cosigned.signatures.push((group_key, signature));
        cosigned
            .verify()
            .context("the aggregate signature does not verify under the group key")?;
        Ok(cosigned)
    }

    /// The group's public key package, from a member's share (the public half it serves),
    /// checked against the network's group key.
    fn public_key_package(
        &self,
        service: &str,
        group_key: Pubkey,
    ) -> Result<group::PublicKeyPackage> {
        let info: Info = self
            .get(service, "/v1/info")
            .map_err(|declined| anyhow!("{declined}"))?;
        let public = info
            .public_key_package
            .with_context(|| format!("{service} does not serve its group's public key package"))?;
        ensure!(
            info.key == group_key.to_string(),
            "{service} holds a share of group key {}, but the network's group key is \
             {group_key}: the services are not this network's attestors",
            info.key
        );
        Ok(public)
    }

    fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        service: &str,
        path: &str,
        body: &B,
    ) -> Result<T, Declined> {
        let bytes = serde_json::to_vec(body).map_err(|error| Declined {
            service: service.to_string(),
            reason: format!("cannot encode the request: {error}"),
        })?;
        let mut request = self
            .http
            .post(format!("{service}{path}"))
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(signer) = &self.signer {
            for (name, value) in signed_headers(signer, path, &bytes) {
                request = request.header(name, value);
            }
        }
        answer(service, request.body(bytes).send())
    }

    fn get<T: DeserializeOwned>(&self, service: &str, path: &str) -> Result<T, Declined> {
        answer(service, self.http.get(format!("{service}{path}")).send())
    }

    /// Runs a distributed key generation among the services, in order (member 1, 2, …), with
    /// threshold `threshold`, as the coordinator they were started with (its key set by
    /// [`Coordinator::signing_as`]); returns the group key every member agreed on.
    pub fn generate_group(&self, threshold: u16) -> Result<Pubkey> {
        let members = self.services.len() as u16;
        ensure!(
            (1..=members).contains(&threshold),
            "--threshold {threshold} must be 1..={members} (the number of services)"
        );
        let coordinator = self
            .signer
            .as_ref()
            .context("a key generation is run by the coordinator's key")?
            .pubkey();
        let session = new_session();
        let mut peers: BTreeMap<u16, Peer> = BTreeMap::new();
        for (index, service) in (1..=members).zip(&self.services) {
            let info: Info = self
                .get(service, "/v1/info")
                .map_err(|declined| anyhow!("{declined}"))?;
            let key = info.dkg_key.with_context(|| {
                format!(
                    "{service} takes part in no key generation of {coordinator}: start it with \
                     --share FILE --dkg-coordinator {coordinator}"
                )
            })?;
            peers.insert(
                index,
                Peer {
                    url: service.clone(),
                    key,
                },
            );
        }
        let mut round1 = BTreeMap::new();
        for (index, Peer { url: service, .. }) in &peers {
            let start = DkgStart {
                session: session.clone(),
                index: *index,
                threshold,
                peers: peers.clone(),
            };
            let started: DkgStarted = self
                .post(service, "/v1/dkg/start", &start)
                .map_err(|declined| anyhow!("{declined}"))?;
            round1.insert(*index, started.package);
        }
        for Peer { url: service, .. } in peers.values() {
            let body = DkgRound1 {
                session: session.clone(),
                packages: round1.clone(),
            };
            let _: serde_json::Value = self
                .post(service, "/v1/dkg/round1", &body)
                .map_err(|declined| anyhow!("{declined}"))?;
        }
        let mut keys = Vec::new();
        for Peer { url: service, .. } in peers.values() {
            let body = DkgFinish {
                session: session.clone(),
            };
            let finished: DkgFinished = self
                .post(service, "/v1/dkg/finish", &body)
                .map_err(|declined| anyhow!("{declined}"))?;
            keys.push((service.clone(), finished.group_key));
        }
        let first = keys[0].1.clone();
        if let Some((service, other)) = keys.iter().find(|(_, key)| *key != first) {
            bail!("the members disagree on the group key: {service} holds {other}, not {first}");
        }
        first
            .parse()
            .map_err(|_| anyhow!("the group key {first} is not a public key"))
    }
}

/// The service's answer, or why it gave none.
fn answer<T: DeserializeOwned>(
    service: &str,
    response: reqwest::Result<reqwest::blocking::Response>,
) -> Result<T, Declined> {
    let declined = |reason: String| Declined {
        service: service.to_string(),
        reason,
    };
    let response = response.map_err(|error| declined(format!("unreachable: {error}")))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .map_err(|error| declined(format!("no answer: {error}")))?;
    if !status.is_success() {
        let reason = serde_json::from_slice::<Refusal>(&bytes)
            .map(|refusal| refusal.reason)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
        return Err(declined(format!("refused ({status}): {reason}")));
    }
    serde_json::from_slice(&bytes).map_err(|error| declined(format!("bad answer: {error}")))
}

/// The signature in `answer`, checked: by a key `expected` takes, over the receipt bytes.
fn signature_by(
    answer: &Cosigned,
    signed: &SignedReceipt,
    expected: impl Fn(&Pubkey) -> bool,
) -> Result<(Pubkey, [u8; 64]), String> {
    let key: Pubkey = answer
        .key
        .parse()
        .map_err(|_| format!("answered with {:?}, not a key", answer.key))?;
    if !expected(&key) {
        return Err(format!("its key {key} is not one this receipt still takes"));
    }
    let signature: [u8; 64] = hex::decode(&answer.signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or("answered with a signature that is not 64 bytes of hex")?;
    let mut alone = SignedReceipt::new(signed.receipt);
    alone.signatures.push((key, signature));
    alone
        .verify()
        .map_err(|_| format!("its signature by {key} does not verify"))?;
    Ok((key, signature))
}

/// Fails unless `got` of the `needed` signatures came, listing who declined and why.
fn enough(got: usize, needed: usize, declined: &[Declined]) -> Result<()> {
    if got >= needed {
        return Ok(());
    }
    let reasons: Vec<String> = declined.iter().map(ToString::to_string).collect();
    bail!(
        "only {got} of the {needed} co-signatures the network needs: {}",
        if reasons.is_empty() {
            "too few services were named".to_string()
        } else {
            reasons.join("; ")
        }
    )
}
