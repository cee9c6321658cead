// A real OpenID Connect provider for zizhi's single sign-on test (panva's oidc-provider).
// Usage: node provider.mjs PORT REDIRECT_URI
// Signing in is automatic: the interaction signs in the account named by the last
// `POST /_test/account?id=…` and grants the scopes asked for, as an IdP would after the person
// typed a password and agreed. Listens on 127.0.0.1 only.
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);

const accounts = {
  'lead-sso': {
    sub: 'lead-sso',
    preferred_username: 'lead.sso',
    name: '单点登录组长',
    email: 'lead.sso@example.test',
    zizhi_role: 'project_lead',
  },
  'sup-sso': {
    sub: 'sup-sso',
    preferred_username: 'sup.sso',
    name: '单点登录监督',
    email: 'sup.sso@example.test',
    zizhi_role: 'supervisor',
  },
  'applicant-sso': {
    sub: 'applicant-sso',
    preferred_username: 'applicant.sso',
    name: '申请单位的人',
    email: 'applicant.sso@example.test',
    zizhi_role: 'applicant',
  },
  'norole-sso': {
    sub: 'norole-sso',
    preferred_username: 'norole.sso',
    name: '没有角色',
    email: 'norole.sso@example.test',
  },
  'taken-sso': {
    sub: 'taken-sso',
    preferred_username: 'local.lead',
    name: '与本地账号同名',
    email: 'taken@example.test',
    zizhi_role: 'project_lead',
  },
};

let nextAccount = 'lead-sso';

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: 'zizhi',
      client_secret: 'zizhi-test-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    zizhi: ['zizhi_role'],
  },
  // The role claim travels in the ID token (as IdPs such as Keycloak put mapped claims there).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['zizhi-test-cookie-key'] },
  findAccount: async (ctx, id) =>
    accounts[id] && { accountId: id, claims: async () => accounts[id] },
});

provider.use(async (ctx, next) => {
  if (ctx.path === '/_test/account' && ctx.method === 'POST') {
    nextAccount = ctx.query.id;
    ctx.status = 204;
    return;
  }
  const m = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!m) {
    await next();
    return;
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  if (details.prompt.name === 'login') {
    result = { login: { accountId: nextAccount } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({
          accountId: details.session.accountId,
          clientId: details.params.client_id,
        });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }
  const to = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  });
  ctx.status = 303;
  ctx.redirect(to);
});

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${port}`);
});
