import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditEntry, AuditPage, AuditQuery, Member, Session } from "$lib/api/bindings";
import AuditSection from "./AuditSection.svelte";

afterEach(() => clearMocks());

const ada: Member = {
  id: "01ADA",
  name: "Ada Owner",
  email: "ada@acme.test",
  role: "owner",
  created_at: "2026-01-01T00:00:00Z",
};
const mia: Member = { ...ada, id: "01MIA", name: "Mia Member", role: "member" };

const session: Session = {
  workspace: { id: "01WS", name: "Acme", created_at: "2026-01-01T00:00:00Z" },
  members: [ada, mia],
  active: mia,
  device_user: ada,
  can_manage: false,
  assignable_roles: [],
  member_actions: [],
};

function entry(id: number, patch: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id,
    at: new Date(Date.now() - id * 60_000).toISOString(),
    member_id: ada.id,
    member_name: ada.name,
    member_role: "owner",
    previewed_by: null,
    surface: "window",
    area: "endpoints",
    action: "endpoint.created",
    target: "https://hooks.acme.test",
    summary: "Added the webhook endpoint https://hooks.acme.test.",
    ...patch,
  };
}

const rows = () => document.querySelectorAll("[data-testid=audit-row]");
const byTestId = (id: string) => document.querySelector(`[data-testid=${id}]`) as HTMLElement;

describe("AuditSection", () => {
  it("lists the newest changes, pages back, and exports what the filters select", async () => {
    const queries: AuditQuery[] = [];
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "list_audit") {
        const query = (args as { query: AuditQuery }).query;
        queries.push(query);
        const page: AuditPage =
          query.before_id === null
            ? {
                entries: [
                  entry(1),
                  entry(2, {
                    member_id: mia.id,
                    member_name: mia.name,
                    member_role: "member",
                    previewed_by: ada.name,
                    action: "member.updated",
                  }),
                ],
                total: 3,
                next_before_id: 2,
              }
            : {
                entries: [
                  entry(3, { member_id: null, member_name: "Pitchbar Admin", surface: "app" }),
                ],
                total: 3,
                next_before_id: null,
              };
        return page;
      }
      if (cmd === "export_audit") return "/home/ada/Downloads/pitchbar-audit.csv";
      return null;
    });
    render(AuditSection, { session });

    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(byTestId("audit-count").textContent).toBe("3 changes");
    expect(rows()[1]?.getAttribute("data-action")).toBe("member.updated");
    expect(screen.getByText("previewed by Ada Owner")).toBeTruthy();
    expect(queries[0]).toMatchObject({ who: null, area: null, text: null, before_id: null });

    await fireEvent.click(byTestId("audit-load-more"));
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(queries[1]?.before_id).toBe(2);
    expect(document.querySelector("[data-testid=audit-load-more]")).toBeNull();

    await fireEvent.click(byTestId("audit-export-csv"));
    await waitFor(() => expect(byTestId("audit-export-path").textContent).toContain("pitchbar"));
    const exported = calls.find(([cmd]) => cmd === "export_audit")?.[1] as {
      query: AuditQuery;
      format: string;
    };
    expect(exported.format).toBe("csv");
    expect(exported.query.before_id).toBeNull();
    expect(exported.query.limit).toBeNull();

    await fireEvent.click(byTestId("audit-show-export"));
    await waitFor(() =>
      expect(calls).toContainEqual([
        "show_audit_export",
        { path: "/home/ada/Downloads/pitchbar-audit.csv" },
      ]),
    );
  });

  it("filters by who and says when nothing matches", async () => {
    const queries: AuditQuery[] = [];
    mockIPC((cmd, args) => {
      if (cmd !== "list_audit") return null;
      queries.push((args as { query: AuditQuery }).query);
      return { entries: [], total: 0, next_before_id: null } satisfies AuditPage;
    });
    render(AuditSection, { session });

    await screen.findByText("No changes recorded yet.");
    const who = byTestId("audit-filter-who") as HTMLSelectElement;
    who.value = "app";
    await fireEvent.change(who);
    await screen.findByText("No changes match these filters.");
    expect(queries.at(-1)?.who).toBe("app");
    expect((byTestId("audit-export-json") as HTMLButtonElement).disabled).toBe(true);
  });
});
