// A dynamic import() has no integrity attribute. The page's data lists each chunk a page loads on
// demand with its hash (colloque.web.assets); a modulepreload link carrying that integrity puts
// the checked module in the document's module map first, and import() then takes it from there.
// A file changed on the server fails to load instead of running.

export interface CheckedFile {
  /** The served path, as the page's own script tags write it (/assets/...). */
  path: string;
  integrity: string;
}

/** One link per file: two chunks can share one, and a second modulepreload of a module already
 * in the map may never fire an event. */
const preloaded = new Map<string, Promise<void>>();

function preload(file: CheckedFile): Promise<void> {
  const known = preloaded.get(file.path);
  if (known !== undefined) return known;
  const loading = new Promise<void>((resolve, reject) => {
    const link = document.createElement("link");
    link.rel = "modulepreload";
    link.href = file.path;
    link.integrity = file.integrity;
    link.addEventListener("load", () => resolve(), { once: true });
    link.addEventListener("error", () => reject(new Error(`${file.path} did not load or does not match its integrity`)), { once: true });
    document.head.append(link);
  });
  preloaded.set(file.path, loading);
  return loading;
}

/** `files`: what the server listed for this chunk; none listed, and nothing is imported. */
export async function importChecked<T>(files: CheckedFile[] | undefined, load: () => Promise<T>): Promise<T> {
  if (files === undefined || files.length === 0) throw new Error("no integrity for this chunk");
  await Promise.all(files.map(preload));
  return load();
}
