/** Users (administrators only) and API tokens (each user their own; administrators anyone's). */
import { createRoute, z } from '@hono/zod-openapi';
import { ROLES, isAllowed } from '../../core/users.ts';
import type { Role } from '../../core/users.ts';
import { addUser, createApiToken, listUsers, removeUser, revokeApiToken, setPassword, setRole } from '../../users/index.ts';
import type { ServerApp } from '../app.ts';
import { NotFoundError, requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { ERROR_RESPONSES, jsonResponse } from './shared.ts';

const UserParam = z.object({ user: z.string().min(1).openapi({ param: { name: 'user', in: 'path' } }) });
const RoleSchema = z.enum(ROLES as unknown as [Role, ...Role[]]);

export function registerUserRoutes(app: ServerApp, deps: ServerDeps): void {
  const users = (actor: string) => ({ store: deps.store, now: deps.now, actor });

  app.openapi(
    createRoute({ method: 'get', path: '/api/users', summary: 'The users and their roles', responses: { 200: jsonResponse('The users'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'users');
      return c.json({ users: await listUsers(deps.store) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users',
      summary: 'Adds a user',
      request: { body: { content: { 'application/json': { schema: z.object({ name: z.string().min(1), role: RoleSchema, password: z.string().min(1) }) } }, required: true } },
      responses: { 201: jsonResponse('The user'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'users');
      const { name, role, password } = c.req.valid('json');
      return c.json(await addUser(users(c.get('caller')!.user.name), name, role, password), 201);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/api/users/{user}', summary: 'Removes a user, with their sessions and tokens', request: { params: UserParam }, responses: { 200: jsonResponse('The user removed'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'users');
      return c.json(await removeUser(users(c.get('caller')!.user.name), c.req.valid('param').user), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/users/{user}/role',
      summary: "Changes a user's role",
      request: { params: UserParam, body: { content: { 'application/json': { schema: z.object({ role: RoleSchema }) } }, required: true } },
      responses: { 200: jsonResponse('Changed'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'users');
      await setRole(users(c.get('caller')!.user.name), c.req.valid('param').user, c.req.valid('json').role);
      return c.json({ changed: true }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/users/{user}/password',
      summary: "Changes a password (one's own, or anyone's for an administrator); the user's other sessions and tokens end",
      request: { params: UserParam, body: { content: { 'application/json': { schema: z.object({ password: z.string().min(1) }) } }, required: true } },
      responses: { 200: jsonResponse('Changed'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = c.get('caller')!;
      const name = c.req.valid('param').user;
      if (name !== caller.user.name) {
        requireAction(c, 'users');
      }
      await setPassword(users(caller.user.name), name, c.req.valid('json').password);
      return c.json({ changed: true }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/tokens', summary: "The caller's API tokens (an administrator's: everyone's); never their secrets", responses: { 200: jsonResponse('The tokens'), ...ERROR_RESPONSES } }),
    async (c) => {
      const caller = c.get('caller')!;
      const tokens = await deps.store.listApiTokens(isAllowed(caller.user.role, 'users') ? undefined : caller.user.name);
      return c.json({ tokens: tokens.map(({ secretHash: _secret, ...visible }) => visible) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tokens',
      summary: 'A new API token for the caller: the secret is in this answer only',
      request: { body: { content: { 'application/json': { schema: z.object({ label: z.string().min(1).max(100), expiresInDays: z.number().int().min(1).max(3650).optional() }) } }, required: true } },
      responses: { 201: jsonResponse('The token (shown once) and its record'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = c.get('caller')!;
      const { label, expiresInDays } = c.req.valid('json');
      const { token, record } = await createApiToken(users(caller.user.name), caller.user.name, label, { expiresInMs: expiresInDays === undefined ? undefined : expiresInDays * 86_400_000 });
      const { secretHash: _secret, ...visible } = record;
      return c.json({ token, record: visible }, 201);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/api/tokens/{id}', summary: 'Revokes an API token', request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }) }, responses: { 200: jsonResponse('Revoked'), ...ERROR_RESPONSES } }),
    async (c) => {
      const caller = c.get('caller')!;
      const { id } = c.req.valid('param');
      const token = await deps.store.getApiToken(id);
      // Someone else's token is as good as absent, unless the caller manages users.
      if (!token || (token.userName !== caller.user.name && !isAllowed(caller.user.role, 'users'))) throw new NotFoundError(`No API token ${id}.`);
      await revokeApiToken(users(caller.user.name), id);
      return c.json({ revoked: true }, 200);
    },
  );
}
