// Copies text: the async Clipboard API, or — where the webview refuses it — a hidden textarea
// and execCommand("copy").

export async function copyText(text: string, doc: Document = document): Promise<void> {
  try {
    if (typeof navigator !== "undefined" && navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return;
    }
  } catch {
    // Fall through to the older way.
  }
  const area = doc.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  area.style.left = "-9999px";
  doc.body.appendChild(area);
  area.focus();
  area.select();
  try {
    const ok = typeof doc.execCommand === "function" && doc.execCommand("copy");
    if (!ok)
      throw new Error("Couldn't copy to the clipboard. Select the text and copy it instead.");
  } finally {
    area.remove();
  }
}
