import { describe, expect, it, vi } from "vitest";
import { action, anyPending } from "./action.svelte";

/** A call the test settles by hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("an action's busy and error state", () => {
  it("is pending while it runs, and not after it succeeded", async () => {
    const call = deferred();
    const save = action(() => call.promise);
    expect(save.pending).toBe(false);
    const done = save.run();
    expect(save.pending).toBe(true);
    call.resolve();
    expect(await done).toBe(true);
    expect(save.pending).toBe(false);
    expect(save.error).toBeNull();
  });

  it("keeps the backend's code and message when it fails, and is no longer pending", async () => {
    const save = action(() =>
      Promise.reject({ code: "conflict", message: "Erin Cole is the only Owner." }),
    );
    expect(await save.run()).toBe(false);
    expect(save.pending).toBe(false);
    expect(save.error).toEqual({ code: "conflict", message: "Erin Cole is the only Owner." });
    expect(save.message).toBe("Erin Cole is the only Owner.");
  });

  it("reads a plain string or an Error as the other commands' rejections are read", async () => {
    const plain = action(() => Promise.reject("The keychain is locked."));
    await plain.run();
    expect(plain.error).toEqual({ code: null, message: "The keychain is locked." });

    const thrown = action(async () => {
      throw new Error("boom");
    });
    await thrown.run();
    expect(thrown.error).toEqual({ code: null, message: "boom" });
  });

  it("does not run again while a run is pending (a double click sends once)", async () => {
    const call = deferred();
    const fn = vi.fn(() => call.promise);
    const save = action(fn);
    const first = save.run();
    expect(await save.run()).toBe(false);
    expect(fn).toHaveBeenCalledTimes(1);
    call.resolve();
    await first;
    await save.run();
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("passes its arguments through", async () => {
    const fn = vi.fn(async (_id: string, _hours: number) => {});
    const rotate = action(fn);
    await rotate.run("ep_1", 24);
    expect(fn).toHaveBeenCalledWith("ep_1", 24);
  });

  it("clears the last failure when it runs again, and on clear()", async () => {
    let fail = true;
    const save = action(async () => {
      if (fail) throw { code: "invalid_input", message: "Enter a name." };
    });
    await save.run();
    expect(save.error?.code).toBe("invalid_input");
    fail = false;
    await save.run();
    expect(save.error).toBeNull();

    fail = true;
    await save.run();
    save.clear();
    expect(save.error).toBeNull();
  });

  it("tells onerror of each failure, and only of failures", async () => {
    const onerror = vi.fn();
    let fail = true;
    const retry = action(
      async () => {
        if (fail) throw { code: "network", message: "Slack did not answer." };
      },
      { onerror },
    );
    await retry.run();
    fail = false;
    await retry.run();
    expect(onerror).toHaveBeenCalledTimes(1);
    expect(onerror).toHaveBeenCalledWith({ code: "network", message: "Slack did not answer." });
  });

  it("anyPending: true while one of several runs", async () => {
    const call = deferred();
    const start = action(() => call.promise);
    const stop = action(async () => {});
    expect(anyPending(start, stop)).toBe(false);
    const running = start.run();
    expect(anyPending(start, stop)).toBe(true);
    call.resolve();
    await running;
    expect(anyPending(start, stop)).toBe(false);
  });
});
