/**
 * Task management: a tenant's tasks, created, replaced and deleted through the API and stored in
 * vantage.tasks. A task is written exactly as in a probe config's `tasks:` list and validated by
 * the probe's own config validator.
 */
import { CHECK_KINDS, ID_PATTERN } from '@vantage/probe';
import { badRequest, notFound } from './errors.ts';
import { oneOf, required, text } from './params.ts';
import { ref, route } from './route.ts';
import { taskView } from './tasks.ts';

const idParam = { id: required(text({ description: 'The task id.', maxLength: 64, pattern: ID_PATTERN, hint: 'letters, digits, "-" and "_", at most 64' })) };
const TASK_BODY = {
  description: 'A task as written in a probe config (see probe/README.md): id, kind, target, schedule, timeout, and a block named after the kind. Unknown keys are refused.',
  schema: ref('TaskSpec'),
};

function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(['body: expected a JSON object (a task as in a probe config)']);
  return body as Record<string, unknown>;
}

const list = route({
  method: 'GET',
  path: '/v1/tasks',
  tag: 'tasks',
  summary: 'Your tasks',
  scope: 'read',
  query: {
    target: text({ description: 'Only tasks with this target.', maxLength: 2048 }),
    kind: oneOf(CHECK_KINDS, { description: 'Only tasks of this kind.' }),
  },
  params: {},
  responses: { 200: { description: 'The tasks.', schema: { type: 'object', properties: { tasks: { type: 'array', items: ref('Task') } } } } },
  async handle({ query: q, who, api }) {
    const tasks = await api.tasks.list(who.tenant, { ...(q.target !== undefined ? { target: q.target } : {}), ...(q.kind !== undefined ? { kind: q.kind } : {}) });
    return { body: { tasks: tasks.map(taskView) } };
  },
});

const get = route({
  method: 'GET',
  path: '/v1/tasks/:id',
  tag: 'tasks',
  summary: 'One task',
  scope: 'read',
  query: {},
  params: idParam,
  responses: { 200: { description: 'The task.', schema: ref('Task') } },
  async handle({ params, who, api }) {
    const task = await api.tasks.get(params.id);
    if (!task || task.tenant !== who.tenant || task.deleted) throw notFound(`no task "${params.id}"`);
    return { body: taskView(task) };
  },
});

const create = route({
  method: 'POST',
  path: '/v1/tasks',
  tag: 'tasks',
  summary: 'Create a task',
  description: '409 when the id is in use (task ids are global: results are keyed by them).',
  scope: 'write',
  query: {},
  params: {},
  body: TASK_BODY,
  responses: { 201: { description: 'Created.', schema: ref('Task') } },
  async handle({ body, who, api }) {
    const task = await api.tasks.save(who.tenant, bodyObject(body), { mode: 'create', source: 'api', changedBy: who.keyId });
    return { status: 201, body: taskView(task) };
  },
});

const replace = route({
  method: 'PUT',
  path: '/v1/tasks/:id',
  tag: 'tasks',
  summary: 'Replace a task',
  description: 'The body is the whole new task; its `id` (if given) must be the one in the path.',
  scope: 'write',
  query: {},
  params: idParam,
  body: TASK_BODY,
  responses: { 200: { description: 'Replaced.', schema: ref('Task') } },
  async handle({ params, body, who, api }) {
    const raw = bodyObject(body);
    if (raw.id !== undefined && raw.id !== params.id) throw badRequest([`body.id: ${JSON.stringify(raw.id)} differs from the id in the path (${params.id})`]);
    const task = await api.tasks.save(who.tenant, { ...raw, id: params.id }, { mode: 'replace', source: 'api', changedBy: who.keyId });
    return { body: taskView(task) };
  },
});

const remove = route({
  method: 'DELETE',
  path: '/v1/tasks/:id',
  tag: 'tasks',
  summary: 'Delete a task',
  description: 'Its results stay readable; the id stays yours.',
  scope: 'write',
  query: {},
  params: idParam,
  responses: { 204: { description: 'Deleted.' } },
  async handle({ params, who, api }) {
    if (!(await api.tasks.delete(who.tenant, params.id, who.keyId))) throw notFound(`no task "${params.id}"`);
    return { status: 204 };
  },
});

export const TASK_ROUTES = [list, get, create, replace, remove];
