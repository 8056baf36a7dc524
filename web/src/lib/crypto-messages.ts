// What to tell someone when the crypto worker refuses or fails (CryptoFailure.kind), in both
// languages. Its own module, so that pages without encryption (the slot picker) do not carry it;
// a kind missing in either language is a type error.
import type { FailureKind } from "../crypto/errors";
import type { Lang } from "./i18n";

export const cryptoFailureMessages: Record<Lang, Record<FailureKind, string>> = {
  fr: {
    CryptoError: "Ces données chiffrées n'ont pas pu être lues.",
    MalformedEnvelope: "Ces données chiffrées sont illisibles ou d'un format inconnu.",
    DecryptionFailed: "Ces données n'ont pas pu être déchiffrées : clé incorrecte ou données modifiées.",
    SignatureInvalid: "La signature de ce contenu ne correspond pas à son auteur : il n'est pas affiché.",
    WrongContext: "Ce contenu chiffré ne correspond pas à ce qui était attendu : il n'est pas affiché.",
    StaleEpoch: "Le serveur a présenté une ancienne clé du cabinet : elle est refusée.",
    WeakParameters: "Le serveur demande des paramètres de sécurité anormaux : la connexion est refusée.",
    InvalidPublicKey: "Une clé publique a été refusée : les empreintes ne correspondent pas.",
    ProofInvalid: "L'annuaire des clés n'a pas pu être vérifié : rien n'a été chiffré.",
    OutOfMemory:
      "Votre appareil manque de mémoire pour protéger votre mot de passe. Fermez d'autres onglets ou applications, puis réessayez.",
    KeysChanged: "Les clés d'un membre du cabinet ont été réinitialisées : comparez son empreinte avant de continuer. Rien n'a été chiffré.",
    UnsignedMemberships:
      "Ce cabinet n'a pas encore signé la liste de ses membres : la prise de rendez-vous chiffrée n'est pas possible pour l'instant. Contactez le cabinet par téléphone.",
    AuthorNotAllowed:
      "Ce contenu est signé par un compte qui n'est ni vous ni un membre reconnu du cabinet : il n'est pas affiché. Signalez-le au cabinet.",
    ClinicalKeyPending:
      "Cette note est chiffrée pour les praticiens : la clé des praticiens n'a pas encore été partagée avec cet appareil. En attente de l'appareil d'un confrère.",
    WorkerUnavailable: "Le module de chiffrement n'a pas pu démarrer. Rechargez la page.",
    UnknownHandle: "Votre session de chiffrement a expiré. Reconnectez-vous.",
    InternalError: "Une erreur inattendue s'est produite pendant le chiffrement. Rechargez la page.",
  },
  en: {
    CryptoError: "This encrypted data could not be read.",
    MalformedEnvelope: "This encrypted data is unreadable or of an unknown format.",
    DecryptionFailed: "This data could not be decrypted: wrong key, or the data was changed.",
    SignatureInvalid: "This content's signature does not match its author, so it is not shown.",
    WrongContext: "This encrypted content is not what was expected, so it is not shown.",
    StaleEpoch: "The server presented an old practice key; it is refused.",
    WeakParameters: "The server asks for abnormal security parameters; signing in is refused.",
    InvalidPublicKey: "A public key was refused: the fingerprints do not match.",
    ProofInvalid: "The key directory could not be verified, so nothing was encrypted.",
    OutOfMemory: "Your device is short of memory to protect your password. Close other tabs or apps, then try again.",
    KeysChanged: "A practice member's keys were reset: compare their fingerprint before going on. Nothing was encrypted.",
    UnsignedMemberships:
      "This practice has not signed its member list yet, so encrypted booking is not possible for now. Please call the practice.",
    AuthorNotAllowed: "This content is signed by an account that is neither you nor a recognised member of the practice, so it is not shown. Tell the practice.",
    ClinicalKeyPending: "This note is encrypted for the practitioners: their key has not been shared with this device yet. Waiting for a colleague's device.",
    WorkerUnavailable: "The encryption module could not start. Reload the page.",
    UnknownHandle: "Your encryption session has expired. Sign in again.",
    InternalError: "Something unexpected went wrong while encrypting. Reload the page.",
  },
};
