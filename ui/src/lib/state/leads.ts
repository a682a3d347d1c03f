// The agents (who capture leads on a website, with their custom lead fields) and the leads they
// captured, for Settings and the Playground. Each page fetches its own copy: nothing is kept.

import {
  commands,
  type Agent,
  type AgentInput,
  type Lead,
  type LeadInput,
  type LeadPage,
  type LeadQuery,
} from "$lib/api/bindings";

export const leadCapture = {
  agents(): Promise<Agent[]> {
    return commands.listAgents();
  },

  createAgent(input: AgentInput): Promise<Agent> {
    return commands.createAgent(input);
  },

  updateAgent(agentId: string, input: AgentInput): Promise<Agent> {
    return commands.updateAgent(agentId, input);
  },

  async deleteAgent(agentId: string): Promise<void> {
    await commands.deleteAgent(agentId);
  },

  /** A page of leads, newest first. */
  leads(query: LeadQuery): Promise<LeadPage> {
    return commands.listLeads(query);
  },

  /** Submits a lead through the website widget's path (validated, stored, announced). */
  submit(input: LeadInput): Promise<Lead> {
    return commands.submitPlaygroundLead(input);
  },
};
