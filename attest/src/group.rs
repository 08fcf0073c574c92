//! Attestor groups: FROST(Ed25519, SHA-512) (RFC 9591) through the `frost-ed25519` crate.
//!
//! A group is made by distributed key generation among its members ([`DkgMember`]: no member,
//! and nobody else, ever holds the group's secret), or, for local ledgers and tests only, by a
//! dealer ([`dealer`]). Each member keeps a [`ShareFile`]. To sign, a coordinator collects a
//! commitment from `t` members ([`commit`]), sends them all the signing package, collects
//! their signature shares ([`sign`]) and aggregates them ([`aggregate`]), which names any
//! member whose share is wrong.

use anchor_lang::prelude::Pubkey;
use frost_ed25519 as frost;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub use frost::keys::dkg::{round1 as dkg_round1, round2 as dkg_round2};
pub use frost::keys::PublicKeyPackage;
pub use frost::round1::{SigningCommitments, SigningNonces};
pub use frost::round2::SignatureShare;
pub use frost::{Identifier, SigningPackage};

/// What can go wrong with a group.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("FROST: {0}")]
    Frost(#[from] frost::Error),
    #[error("these members sent signature shares that do not verify: {0:?}")]
    BadShares(Vec<Identifier>),
    #[error("share file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("the DKG is not at this step: {0}")]
    OutOfOrder(&'static str),
    #[error("a group signs with one member or more; none was given")]
    NoSigners,
}

/// The format tag of a share file.
pub const SHARE_FORMAT: &str = "tessera-frost-share/v1";

/// One member's share of a group key, as it is kept on disk (mode 0600).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShareFile {
    pub format: String,
    /// The group key, base58: what `network set-attestors --group-key` takes.
    pub group_key: String,
    pub key_package: frost::keys::KeyPackage,
    pub public_key_package: frost::keys::PublicKeyPackage,
}

impl ShareFile {
    fn new(
        key_package: frost::keys::KeyPackage,
        public_key_package: frost::keys::PublicKeyPackage,
    ) -> Result<Self, GroupError> {
        let group_key = group_key_of(&public_key_package)?;
        Ok(Self {
            format: SHARE_FORMAT.into(),
            group_key: group_key.to_string(),
            key_package,
            public_key_package,
        })
    }

    /// The member's identifier in the group.
    pub fn identifier(&self) -> Identifier {
        *self.key_package.identifier()
    }

    /// Signatures the group needs.
    pub fn threshold(&self) -> u16 {
        *self.key_package.min_signers()
    }

    /// The group key.
    pub fn group_key(&self) -> Result<Pubkey, GroupError> {
        group_key_of(&self.public_key_package)
    }

    /// Writes the share to `path`, readable by its owner alone; refuses to replace a file.
    pub fn save(&self, path: &Path) -> Result<(), GroupError> {
        use std::io::Write;
        let failed = |reason: String| GroupError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = serde_json::to_string_pretty(self).map_err(|error| failed(error.to_string()))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|error| failed(format!("{error} (a share is never overwritten)")))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|error| failed(error.to_string()))
    }

    /// Reads a share file.
    pub fn load(path: &Path) -> Result<Self, GroupError> {
        let failed = |reason: String| GroupError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|error| failed(error.to_string()))?;
        let share: Self = serde_json::from_str(&text).map_err(|error| failed(error.to_string()))?;
        if share.format != SHARE_FORMAT {
            return Err(failed(format!(
                "format {:?} is not {SHARE_FORMAT}",
                share.format
            )));
        }
        Ok(share)
    }
}

fn group_key_of(public: &frost::keys::PublicKeyPackage) -> Result<Pubkey, GroupError> {
    let bytes = public.verifying_key().serialize()?;
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| GroupError::OutOfOrder("a group key is 32 bytes"))?;
    Ok(Pubkey::new_from_array(array))
}

/// The identifier of member `index` (1-based).
pub fn identifier(index: u16) -> Result<Identifier, GroupError> {
    Ok(Identifier::try_from(index)?)
}

/// A group of `members` with threshold `threshold`, from a dealer that sees the secret: for
/// local ledgers and tests only.
pub fn dealer(threshold: u16, members: u16) -> Result<Vec<ShareFile>, GroupError> {
    let (shares, public) = frost::keys::generate_with_dealer(
        members,
        threshold,
        frost::keys::IdentifierList::Default,
        rand::rngs::OsRng,
    )?;
    shares
        .into_values()
        .map(|share| ShareFile::new(frost::keys::KeyPackage::try_from(share)?, public.clone()))
        .collect()
}

/// One member's side of the distributed key generation.
pub struct DkgMember {
    identifier: Identifier,
    round1_secret: Option<dkg_round1::SecretPackage>,
    round2_secret: Option<dkg_round2::SecretPackage>,
    round1_packages: BTreeMap<Identifier, dkg_round1::Package>,
}

impl DkgMember {
    /// Round one: this member's secret polynomial; the package goes to every other member.
    pub fn start(
        identifier: Identifier,
        members: u16,
        threshold: u16,
    ) -> Result<(Self, dkg_round1::Package), GroupError> {
        let (secret, package) =
            frost::keys::dkg::part1(identifier, members, threshold, rand::rngs::OsRng)?;
        let member = Self {
            identifier,
            round1_secret: Some(secret),
            round2_secret: None,
            round1_packages: BTreeMap::new(),
        };
        Ok((member, package))
    }

    /// This member's identifier.
    pub fn identifier(&self) -> Identifier {
        self.identifier
    }

    /// Round two, given every other member's round-one package: one secret package for each
    /// other member, to be sent to it alone.
    pub fn round2(
        &mut self,
        round1_packages: BTreeMap<Identifier, dkg_round1::Package>,
    ) -> Result<BTreeMap<Identifier, dkg_round2::Package>, GroupError> {
        let secret = self.round1_secret.take().ok_or(GroupError::OutOfOrder(
            "round two runs once, after round one",
        ))?;
        let (secret, packages) = frost::keys::dkg::part2(secret, &round1_packages)?;
        self.round2_secret = Some(secret);
        self.round1_packages = round1_packages;
        Ok(packages)
    }

    /// Round three, given the round-two package every other member sent this one: its share.
    pub fn finish(
        &self,
        round2_packages: &BTreeMap<Identifier, dkg_round2::Package>,
    ) -> Result<ShareFile, GroupError> {
        let secret = self
            .round2_secret
            .as_ref()
            .ok_or(GroupError::OutOfOrder("round three runs after round two"))?;
        let (key_package, public) =
            frost::keys::dkg::part3(secret, &self.round1_packages, round2_packages)?;
        ShareFile::new(key_package, public)
    }
}

/// Signing, round one (a member): fresh nonces, kept by the member for round two, and their
/// commitments, sent to the coordinator.
pub fn commit(share: &ShareFile) -> (SigningNonces, SigningCommitments) {
    frost::round1::commit(share.key_package.signing_share(), &mut rand::rngs::OsRng)
}

/// The coordinator's signing package: `message` and the commitments of the members signing.
pub fn signing_package(
    commitments: BTreeMap<Identifier, SigningCommitments>,
    message: &[u8],
) -> SigningPackage {
    SigningPackage::new(commitments, message)
}

/// Signing, round two (a member): its signature share of the package, with the nonces it
/// committed to (used once).
pub fn sign(
    share: &ShareFile,
    nonces: &SigningNonces,
    package: &SigningPackage,
) -> Result<SignatureShare, GroupError> {
    Ok(frost::round2::sign(package, nonces, &share.key_package)?)
}

/// The coordinator: the group's Ed25519 signature from the members' shares, checked against
/// the group key; a share that does not verify names its member.
pub fn aggregate(
    package: &SigningPackage,
    shares: &BTreeMap<Identifier, SignatureShare>,
    public: &frost::keys::PublicKeyPackage,
) -> Result<[u8; 64], GroupError> {
    let signature = frost::aggregate(package, shares, public).map_err(|error| match error {
        frost::Error::InvalidSignatureShare { culprits } => GroupError::BadShares(culprits),
        other => GroupError::Frost(other),
    })?;
    public
        .verifying_key()
        .verify(package.message(), &signature)?;
    let bytes = signature.serialize()?;
    bytes
        .try_into()
        .map_err(|_| GroupError::OutOfOrder("an Ed25519 signature is 64 bytes"))
}

/// The group's Ed25519 signature of `message` by `signers` (at least the threshold), every
/// member in this one process: each commits to fresh nonces, signs its share of the signing
/// package, and the shares are aggregated and checked under the group key. For local
/// ledgers, tests and benchmarks; across machines the coordinator runs the same two rounds
/// over HTTP.
pub fn sign_together(signers: &[ShareFile], message: &[u8]) -> Result<[u8; 64], GroupError> {
    let first = signers.first().ok_or(GroupError::NoSigners)?;
    let mut nonces = BTreeMap::new();
    let mut commitments = BTreeMap::new();
    for share in signers {
        let (member_nonces, member_commitments) = commit(share);
        nonces.insert(share.identifier(), member_nonces);
        commitments.insert(share.identifier(), member_commitments);
    }
    let package = signing_package(commitments, message);
    let mut shares = BTreeMap::new();
    for share in signers {
        let identifier = share.identifier();
        shares.insert(identifier, sign(share, &nonces[&identifier], &package)?);
    }
    aggregate(&package, &shares, &first.public_key_package)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_client::receipt::{SignedReceipt, RECEIPT_DOMAIN};

    fn dkg(members: u16, threshold: u16) -> Vec<ShareFile> {
        let mut started: Vec<(DkgMember, dkg_round1::Package)> = (1..=members)
            .map(|i| DkgMember::start(identifier(i).unwrap(), members, threshold).unwrap())
            .collect();
        let all: BTreeMap<Identifier, dkg_round1::Package> = started
            .iter()
            .map(|(member, package)| (member.identifier(), package.clone()))
            .collect();
        let mut inboxes: BTreeMap<Identifier, BTreeMap<Identifier, dkg_round2::Package>> =
            BTreeMap::new();
        for (member, _) in &mut started {
            let mut others = all.clone();
            others.remove(&member.identifier());
            for (to, package) in member.round2(others).unwrap() {
                inboxes
                    .entry(to)
                    .or_default()
                    .insert(member.identifier(), package);
            }
        }
        started
            .iter()
            .map(|(member, _)| member.finish(&inboxes[&member.identifier()]).unwrap())
            .collect()
    }

    #[test]
    fn any_t_of_a_dkg_group_sign_a_receipt_as_its_group_key() {
        let shares = dkg(5, 3);
        let group_key = shares[0].group_key().unwrap();
        assert!(shares
            .iter()
            .all(|share| share.group_key().unwrap() == group_key));
        let mut receipt = tessera_client::codec_checks::sample_receipt(7, 90);
        receipt.domain = RECEIPT_DOMAIN;
        let message = receipt.to_bytes();
        for signers in [&shares[..3], &shares[2..]] {
            let signature = sign_together(signers, &message).unwrap();
            let mut signed = SignedReceipt::new(receipt);
            signed.signatures.push((group_key, signature));
            // ed25519-dalek's strict check, the rule the precompile applies.
            signed.verify().unwrap();
        }
    }

    #[test]
    fn nobody_signs_for_a_group_of_no_members() {
        assert!(matches!(
            sign_together(&[], b"receipt bytes"),
            Err(GroupError::NoSigners)
        ));
    }

    #[test]
    fn a_wrong_share_names_its_member_and_a_dealer_group_signs_too() {
        let shares = dealer(2, 3).unwrap();
        let message = b"receipt bytes";
        let mut nonces = BTreeMap::new();
        let mut commitments = BTreeMap::new();
        for share in &shares[..2] {
            let (n, c) = commit(share);
            nonces.insert(share.identifier(), n);
            commitments.insert(share.identifier(), c);
        }
        let package = signing_package(commitments, message);
        let first = shares[0].identifier();
        let second = shares[1].identifier();
        let mut partials = BTreeMap::new();
        partials.insert(first, sign(&shares[0], &nonces[&first], &package).unwrap());
        // The second member answers with the first one's share.
        partials.insert(second, partials[&first]);
        match aggregate(&package, &partials, &shares[0].public_key_package) {
            Err(GroupError::BadShares(culprits)) => assert_eq!(culprits, vec![second]),
            other => panic!("{other:?}"),
        }
        partials.insert(
            second,
            sign(&shares[1], &nonces[&second], &package).unwrap(),
        );
        aggregate(&package, &partials, &shares[0].public_key_package).unwrap();
    }

    #[test]
    fn a_share_file_is_private_and_never_overwritten() {
        let path = std::env::temp_dir().join(format!("tessera-share-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let shares = dealer(2, 2).unwrap();
        shares[0].save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(shares[1].save(&path).is_err());
        let loaded = ShareFile::load(&path).unwrap();
        assert_eq!(loaded.identifier(), shares[0].identifier());
        let _ = std::fs::remove_file(&path);
    }
}
