import { describe, expect, it } from "vitest";

// The rule of docs/ui.md, checked: components call state modules; only state modules
// (src/lib/state) call the backend, through the generated bindings' `commands` and `events`.

const sources = import.meta.glob<string>(["/src/**/*.ts", "/src/**/*.svelte"], {
  query: "?raw",
  import: "default",
  eager: true,
});

const files = Object.entries(sources).filter(
  ([path]) => !path.endsWith(".test.ts") && path !== "/src/lib/api/bindings.ts",
);
const isStateModule = (path: string) => path.startsWith("/src/lib/state/");

/** The names a file imports (as values, not types) from the generated bindings. */
function bindingValues(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(
    /import\s+(type\s+)?\{([^}]*)\}\s+from\s+"\$lib\/api\/bindings"/g,
  )) {
    if (m[1]) continue;
    for (const raw of (m[2] ?? "").split(",")) {
      const name = raw.trim();
      if (name && !name.startsWith("type ")) names.push(name);
    }
  }
  return names;
}

describe("one road to the backend", () => {
  it("finds the files it checks", () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.some(([path]) => path.endsWith(".svelte"))).toBe(true);
  });

  it("components and logic import only types from the bindings: they call state modules", () => {
    const offenders = files
      .filter(([path]) => !isStateModule(path))
      .filter(([, text]) => bindingValues(text).length > 0)
      .map(([path, text]) => `${path}: ${bindingValues(text).join(", ")}`);
    expect(offenders).toEqual([]);
  });

  it("nothing but the bindings talks to Tauri's IPC or events directly", () => {
    const offenders = files
      .filter(([, text]) => /from\s+"@tauri-apps\/api\/(core|event)"/.test(text))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
  });

  it("no event is named by a string: each is `events.<name>` from the bindings", () => {
    const offenders = files
      .filter(([, text]) => /["'`][a-z]+:\/\/[a-z-]+["'`]/.test(text))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
  });
});
