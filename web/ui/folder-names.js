// Folder names: what the page itself can tell about a name typed for a new level.
// The engine builds the wire name (namespace prefix, delimiter, modified UTF-7)
// and refuses what the server's hierarchy does not allow (row V0020). Pure.

/** Why `name` cannot be a new folder level next to `siblings` (null: it can, as far as the page knows). */
export function folderNameProblem(name, { siblings = [] } = {}) {
  if (typeof name !== 'string' || name.trim() === '') return 'Enter a name.';
  const lower = name.toLowerCase();
  if (siblings.some((s) => typeof s === 'string' && s.toLowerCase() === lower)) {
    return `There is already a folder “${name}” here.`;
  }
  return null;
}
