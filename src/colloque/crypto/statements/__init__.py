"""Signed statements in the key directory log: who vouches for a new key or a group change.

Three leaf types live in the log beside key bindings (docs/crypto.md, section 5.12), each signed
with Ed25519 over a domain string followed by every byte before the signature:

- :class:`KeyEndorsement` (``0x0A``): a user's new key epoch, signed by the previous epoch's signing
  key (a rotation) or by the new one (a reset, which clients accept only once a person confirmed it);
- :class:`MembershipStatement` (``0x0B``): a hash-linked chain per group of who holds which role,
  each link signed by an admin of the state before it;
- :class:`GroupEpochStatement` (``0x0C``): a group epoch's public key and the exact set of members
  its secret was wrapped for, signed by an admin at a given point of the membership chain.

Pure: no I/O. Every verification raises a :class:`CryptoError` subclass; none returns a boolean.
The server checks what it can from these clear bytes, but clients never rely on that.
"""

from colloque.crypto.statements._common import (
    ENDORSEMENT_BYTES,
    ENDORSEMENT_DOMAIN,
    ENDORSEMENT_TYPE,
    GENESIS_PREVIOUS,
    GROUP_EPOCH_BYTES,
    GROUP_EPOCH_DOMAIN,
    GROUP_EPOCH_TYPE,
    MEMBER_SET_DOMAIN,
    MEMBERSHIP_BYTES,
    MEMBERSHIP_DOMAIN,
    MEMBERSHIP_TYPE,
    SIGNATURE_BYTES,
    EndorsementKind,
    Role,
    Signer,
    SigningKeys,
)
from colloque.crypto.statements.endorsements import (
    ChainEpoch,
    KeyEndorsement,
    endorse_keys,
    verify_endorsement,
    verify_key_chain,
)
from colloque.crypto.statements.group_epochs import (
    GroupEpochStatement,
    member_entries,
    member_set_digest,
    parse_member_entries,
    sign_group_epoch,
    verify_clinical_epoch,
    verify_group_epoch,
    verify_group_epoch_signature,
)
from colloque.crypto.statements.memberships import (
    MembershipChain,
    MembershipStatement,
    sign_membership,
    verify_membership_chain,
    verify_membership_signature,
)

__all__ = [
    "ENDORSEMENT_BYTES",
    "ENDORSEMENT_DOMAIN",
    "ENDORSEMENT_TYPE",
    "GENESIS_PREVIOUS",
    "GROUP_EPOCH_BYTES",
    "GROUP_EPOCH_DOMAIN",
    "GROUP_EPOCH_TYPE",
    "MEMBERSHIP_BYTES",
    "MEMBERSHIP_DOMAIN",
    "MEMBERSHIP_TYPE",
    "MEMBER_SET_DOMAIN",
    "SIGNATURE_BYTES",
    "ChainEpoch",
    "EndorsementKind",
    "GroupEpochStatement",
    "KeyEndorsement",
    "MembershipChain",
    "MembershipStatement",
    "Role",
    "Signer",
    "SigningKeys",
    "endorse_keys",
    "member_entries",
    "member_set_digest",
    "parse_member_entries",
    "sign_group_epoch",
    "sign_membership",
    "verify_clinical_epoch",
    "verify_endorsement",
    "verify_group_epoch",
    "verify_group_epoch_signature",
    "verify_key_chain",
    "verify_membership_chain",
    "verify_membership_signature",
]
