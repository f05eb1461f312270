// Labels: IMAP keywords the user names, shown on rows and in the reader.
// Keywords starting with "$" ($Forwarded, $Junk…) and backslash flags are the
// client's own markers, never labels.

/** Atom characters (RFC 3501 ATOM-CHAR: no specials, no space or control). */
const ATOM = /^[!#$&'+-[^-z|~]+$/;

export function isLabel(flag) {
  return typeof flag === 'string' && ATOM.test(flag) && !flag.startsWith('$');
}

/** The labels among `flags`, sorted case-insensitively. */
export function labelsOf(flags) {
  const labels = Array.isArray(flags) ? flags.filter(isLabel) : [];
  return labels.sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }));
}

/** Why `name` cannot be a new label, or '' when it can. */
export function labelProblem(name) {
  if (name === '') return 'Type a name.';
  if (name.startsWith('$')) return 'A label cannot start with $.';
  if (!ATOM.test(name)) return 'No spaces, accented letters or ( ) { } % * " \\ ] in a label.';
  return '';
}
