// Checks what someone typed as the local API's port before asking the core, which checks again.

export const MIN_PORT = 1024;
export const MAX_PORT = 65535;

export type PortCheck = { port: number; error: null } | { port: null; error: string };

export function checkPort(text: string): PortCheck {
  const trimmed = text.trim();
  if (trimmed === "") {
    return { port: null, error: `Enter a port from ${MIN_PORT} to ${MAX_PORT}.` };
  }
  if (!/^\d+$/.test(trimmed)) {
    return {
      port: null,
      error: `“${trimmed}” is not a port number. Use digits only, such as 4787.`,
    };
  }
  const port = Number(trimmed);
  if (port < MIN_PORT || port > MAX_PORT) {
    return {
      port: null,
      error:
        port < MIN_PORT
          ? `Ports below ${MIN_PORT} need administrator rights. Choose one from ${MIN_PORT} to ${MAX_PORT}.`
          : `Ports stop at ${MAX_PORT}. Choose one from ${MIN_PORT} to ${MAX_PORT}.`,
    };
  }
  return { port, error: null };
}
