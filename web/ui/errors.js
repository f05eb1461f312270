// Maps engine error codes to sentences for people. Pure: no DOM access, so it
// can be unit-tested under Node.

/** Secrets shorter than this are not redacted (too likely to hit ordinary words). */
const MIN_REDACT_LENGTH = 4;

/** The error code of a rejection value, or '' when it has none. */
export function errorCode(err) {
  if (err && typeof err === 'object' && typeof err.code === 'string') return err.code;
  return '';
}

/** The raw message of a rejection value (Error, plain object, string …). */
export function errorMessage(err) {
  if (err === undefined || err === null) return '';
  if (typeof err === 'string') return err.trim();
  if (typeof err === 'object' && err.message !== undefined && err.message !== null) {
    return String(err.message).trim();
  }
  return String(err).trim();
}

/** Replace every occurrence of each secret in `text` by a placeholder. */
export function redact(text, secrets = []) {
  let out = text;
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_REDACT_LENGTH) continue;
    out = out.split(secret).join('•••');
  }
  return out;
}

/** "[AUTHENTICATIONFAILED] Bad login" → "Bad login": the bracketed IMAP code is noise here. */
function serverText(message) {
  return message.replace(/^\[[A-Z0-9.-]+(?: [^\]]*)?\]\s*/, '').trim();
}

function withDetail(sentence, detail) {
  return detail ? `${sentence} ${detail}` : sentence;
}

/**
 * Human-readable text for an engine error (`{code, message}`), e.g. a rejected
 * promise or a `closed` event. `secrets` (the password) are never echoed.
 */
export function describeError(err, { secrets = [] } = {}) {
  const code = errorCode(err);
  const message = redact(errorMessage(err), secrets);
  switch (code) {
    case 'auth_failed': {
      const said = serverText(message);
      return withDetail('Wrong user name or password.', said && `(Server said: ${said})`);
    }
    case 'unknown_server':
      return 'This server is not offered by the bridge.';
    case 'connect_failed':
      return withDetail('Could not reach the mail server:', message || 'unknown reason.');
    case 'connect_timeout':
      return 'The mail server did not answer in time.';
    case 'tls_failed':
      return withDetail("The mail server's certificate is not trusted:", message || 'unknown reason.');
    case 'connection_lost':
      return 'The connection to the mail server was lost.';
    case 'server_bye':
      return withDetail('The server closed the connection:', message || 'no reason given.');
    case 'timeout':
      return 'The mail server stopped answering.';
    case 'bridge_unreachable':
      return 'Could not reach the bridge.';
    case 'address_denied':
      return "The bridge's network policy does not allow connecting to this server's address.";
    case 'limit_reached':
      return 'The bridge is busy (too many connections). Try again in a moment.';
    case 'starttls_failed':
      return withDetail('The mail server could not set up encryption (STARTTLS):', message);
    case 'read_only':
      return 'This folder is read-only: the server does not allow changes here.';
    case 'insecure_transport':
      return 'The connection to this server is not encrypted, so the password was not sent.';
    default:
      if (message) return message;
      return code ? `Something went wrong (${code}).` : 'Something went wrong.';
  }
}
