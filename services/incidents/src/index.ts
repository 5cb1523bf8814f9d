export { createIncidentsApp } from './app.js';
export type { IncidentsApp } from './app.js';
export { IncidentsConfigSchema, loadIncidentsConfig, parseApiTokens } from './config.js';
export type { IncidentsConfig, ApiToken } from './config.js';
export type { IncidentView, IncidentSummary } from './domain/incident-view.js';
