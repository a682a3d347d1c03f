// The audit trail in the real window: changes made by the Owner and in a preview ("View as")
// are listed in Settings with who made them, filtered, searched, and exported as CSV to
// Downloads; looked at on a desktop and a phone-sized window.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { launch, screenshot } from "./driver.mjs";
import {
  sel,
  visible,
  type,
  innerText,
  textOf,
  resize,
  setUp,
  startReceiver,
  addEndpoint,
  dismissToasts,
} from "./helpers.mjs";

/** The actions of the listed rows, top (newest) first. */
async function actions(browser) {
  return browser.execute(
    (s) =>
      [...document.querySelectorAll(s)].map((r) =>
        r.getAttribute("data-action"),
      ),
    sel("audit-row"),
  );
}

async function rowsBecome(browser, expected, what) {
  let last;
  await browser
    .waitUntil(
      async () => {
        last = await actions(browser);
        return JSON.stringify(last) === JSON.stringify(expected);
      },
      { timeout: 10000 },
    )
    .catch(() => assert.deepEqual(last, expected, what));
}

describe("the audit trail", () => {
  let session;
  let receiver;
  before(async () => {
    session = await launch("audit");
    receiver = await startReceiver();
  });
  after(async () => {
    await session?.close();
    receiver?.close();
  });

  test("changes by the Owner and by a preview are listed, filtered, searched and exported", async () => {
    const { browser } = session;
    await resize(browser, 1280, 800);
    await setUp(browser, "Acme Audit", "Ada Owner", "ada@acme.test");

    // An Admin added in Settings.
    await (await browser.$(sel("nav-settings"))).click();
    await visible(browser, sel("members-table"));
    await (await browser.$(sel("add-member"))).click();
    await type(browser, "#member-name", "Ann Admin");
    await type(browser, "#member-email", "ann@acme.test");
    await (await browser.$("#member-role")).selectByAttribute("value", "admin");
    await (await browser.$(sel("member-submit"))).click();
    await browser.waitUntil(
      async () => (await browser.$$(sel("member-row"))).length === 2,
    );
    await dismissToasts(browser);

    // Viewed as Ann, the workspace is renamed: Ann's change, previewed by Ada.
    await (await browser.$(sel("member-menu"))).click();
    await visible(browser, sel("switch-member"));
    for (const item of await browser.$$(sel("switch-member"))) {
      if ((await innerText(browser, item)).includes("Ann Admin"))
        await item.click();
    }
    await textOf(browser, sel("member-menu"), /AA/);
    await type(browser, "#workspace-name-input", "Acme Audit Co");
    await (await browser.$(sel("save-workspace"))).click();
    await browser.waitUntil(async () =>
      /^Acme Audit Co$/.test(
        await innerText(browser, await browser.$(sel("workspace-name"))),
      ),
    );
    await (await browser.$(sel("member-menu"))).click();
    await (await visible(browser, sel("end-preview-menu"))).click();
    await textOf(browser, sel("member-menu"), /AO/);
    await dismissToasts(browser);

    // An endpoint whose address carries a token: listed without it. (The dialog shows the new
    // secret once, which the trail records as a reveal.)
    await addEndpoint(
      browser,
      receiver.url("/hooks/crm?token=tok_hidden_123"),
      "CRM",
    );

    await (await browser.$(sel("nav-settings"))).click();
    const section = await visible(browser, sel("audit-section"));
    await section.scrollIntoView();
    await rowsBecome(
      browser,
      [
        "endpoint.secret_revealed",
        "endpoint.created",
        "workspace.renamed",
        "member.added",
        "workspace.created",
      ],
      "every change listed, newest first",
    );
    const text = await innerText(browser, section);
    assert.match(text, /previewed by Ada Owner/);
    assert.match(
      text,
      /Renamed the workspace from “Acme Audit” to “Acme Audit Co”/,
    );
    assert.match(text, /\/hooks\/crm/);
    assert.doesNotMatch(text, /tok_hidden_123/, "a URL's query is never shown");
    assert.match(
      await innerText(browser, await browser.$(sel("audit-count"))),
      /5 changes/,
    );
    await screenshot(browser, "desktop-settings-audit");

    // Filters and search.
    await (
      await browser.$(sel("audit-filter-area"))
    ).selectByAttribute("value", "members");
    await rowsBecome(browser, ["member.added"], "the Members area");
    await (
      await browser.$(sel("audit-filter-area"))
    ).selectByAttribute("value", "");
    await type(browser, sel("audit-search"), "audit co");
    await rowsBecome(browser, ["workspace.renamed"], "searching “audit co”");
    await type(browser, sel("audit-search"), "nothing recorded like this");
    await visible(browser, sel("audit-empty"));
    await type(browser, sel("audit-search"), "");
    await rowsBecome(
      browser,
      [
        "endpoint.secret_revealed",
        "endpoint.created",
        "workspace.renamed",
        "member.added",
        "workspace.created",
      ],
      "the search cleared",
    );

    // Export: a CSV in Downloads, one row per change, no token.
    await (await browser.$(sel("audit-export-csv"))).click();
    const pathEl = await visible(browser, sel("audit-export-path"));
    const path = (await innerText(browser, pathEl)).trim();
    assert.match(basename(path), /^pitchbar-audit-\d{8}-\d{6}\.csv$/);
    assert.equal(basename(dirname(path)), "Downloads");
    assert.ok(existsSync(path), `${path} exists`);
    const csv = readFileSync(path, "utf8").trim().split("\n");
    assert.equal(csv.length, 1 + 5, csv.join("\n"));
    assert.match(
      csv[0],
      /^id,at,member_id,member,role,previewed_by,surface,area,action,target,summary$/,
    );
    assert.ok(!csv.join("\n").includes("tok_hidden_123"));
    assert.ok(
      csv.some((line) =>
        line.includes(
          "Ann Admin,admin,Ada Owner,window,workspace,workspace.renamed",
        ),
      ),
      csv.join("\n"),
    );
    assert.ok(join(process.env.HOME, "Downloads") === dirname(path));

    await dismissToasts(browser);
    await resize(browser, 390, 844);
    await (await browser.$(sel("audit-section"))).scrollIntoView();
    await screenshot(browser, "mobile-settings-audit");
    await resize(browser, 1280, 800);
  });
});
