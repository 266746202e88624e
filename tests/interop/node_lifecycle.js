#!/usr/bin/env node
// The official node client (npm `ovh` 2.0.3) drives the sandbox through a whole life, over
// HTTPS: that client only speaks https, and signs `https://` + host + path WITHOUT the port.
//
// The life: a mongodb service is created and waited READY, its IP restrictions are set through
// the service PUT and through the deprecated per-IP routes (the ip URL-escaped as `%2F`), a user
// is created and its password reset, a hosting domain is attached and its task followed
// (todo -> doing -> done, then 404), RunAbove's stackMysql guide runs on its own base path, and
// everything is deleted again. Then the auth failures (wrong signature, stale timestamp, unknown application
// key, unknown consumer key, pending and ungranted consumer keys) and 404s: the client rejects
// with `{error: <status>, message: <body.message>}` and hides the rest of the body, so each case
// is sent again with a raw `https.request`, signed the way the client signs, to check the exact
// JSON body. The consumer-key flow (POST /auth/credential, open the validationUrl) too.
// npm `ovh` 2.0.3 has no OAuth2 support, so that part is python-only.
//
// Usage: NODE_EXTRA_CA_CERTS=ca.pem node node_lifecycle.js https://127.0.0.1:PORT/1.0
//   (or SANDBOX_ENDPOINT=...), against
//   reconcile sandbox serve --tls --tls-ca-out ca.pem --listen 127.0.0.1:0 \
//       --project interop-project --hosting interop.cluster021.hosting.ovh.net --ready-after 300ms
// SANDBOX_PROJECT and SANDBOX_HOSTING override the project and hosting names.
// Prints one line per step; exits 1 with a message naming the step on the first failure.
// Requires `npm ci --prefix tests/interop`. Uses only node built-ins besides `ovh`.

'use strict';

const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');

let makeOvh;
try {
  makeOvh = require('ovh');
} catch (e) {
  console.error('error: npm package `ovh` is missing (' + e.message.split('\n')[0] + ')');
  console.error('hint: npm ci --prefix tests/interop');
  process.exit(1);
}

const APPLICATION_KEY = 'sandbox-application-key';
const APPLICATION_SECRET = 'sandbox-application-secret';
const CONSUMER_KEY = 'sandbox-consumer-key';

const PROJECT = process.env.SANDBOX_PROJECT || 'interop-project';
const HOSTING = process.env.SANDBOX_HOSTING || 'interop.cluster021.hosting.ovh.net';
const DB = `/cloud/project/${PROJECT}/database/mongodb`;
const WEB = `/hosting/web/${HOSTING}`;

// Every wait has a deadline; the sandbox runs with --ready-after 300ms, so this is generous.
const DEADLINE_MS = Number(process.env.SANDBOX_DEADLINE || 30) * 1000;
const POLL_MS = 30;

// Auth-layer error bodies, exactly as the sandbox (like the real API) answers them.
const INVALID_SIGNATURE = {
  class: 'Client::BadRequest',
  errorCode: 'INVALID_SIGNATURE',
  httpCode: '400 Bad Request',
  message: 'Invalid signature',
};
const QUERY_TIME_OUT = {
  class: 'Client::BadRequest',
  errorCode: 'QUERY_TIME_OUT',
  httpCode: '400 Bad Request',
  message: 'Query out of time',
};
const INVALID_KEY = {
  class: 'Client::Forbidden',
  errorCode: 'INVALID_KEY',
  httpCode: '403 Forbidden',
  message: 'This application key is invalid',
};
const NOT_CREDENTIAL = {
  class: 'Client::Forbidden',
  errorCode: 'NOT_CREDENTIAL',
  httpCode: '403 Forbidden',
  message: 'This credential does not exist',
};
const INVALID_CREDENTIAL = {
  class: 'Client::Forbidden',
  errorCode: 'INVALID_CREDENTIAL',
  httpCode: '403 Forbidden',
  message: 'This credential is not valid',
};
const NOT_GRANTED_CALL = {
  class: 'Client::Forbidden',
  errorCode: 'NOT_GRANTED_CALL',
  httpCode: '403 Forbidden',
  message: 'This call has not been granted',
};
const SERVICE_DOES_NOT_EXIST = { class: 'Client::NotFound', message: 'This service does not exist' };

class StepFailed extends Error {}

let currentStep = 'setup';
function step(name) {
  currentStep = name;
}
function done(detail) {
  console.log('ok   ' + currentStep + (detail ? ': ' + detail : ''));
}

function check(condition, message) {
  if (!condition) {
    throw new StepFailed(message);
  }
}

function checkEq(got, want, what) {
  try {
    assert.deepStrictEqual(got, want);
  } catch (e) {
    throw new StepFailed(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fetch()` until `finished(value)`; returns every distinct value seen, in order. */
async function waitFor(what, fetch, finished) {
  const start = Date.now();
  const seen = [];
  for (;;) {
    const value = await fetch();
    if (seen.length === 0 || JSON.stringify(seen[seen.length - 1]) !== JSON.stringify(value)) {
      seen.push(value);
    }
    if (finished(value)) {
      return seen;
    }
    if (Date.now() - start > DEADLINE_MS) {
      throw new StepFailed(
        `timeout after ${Math.round((Date.now() - start) / 1000)}s waiting for ${what}; ` +
          `last seen: ${JSON.stringify(value)} (all seen: ${JSON.stringify(seen)})`,
      );
    }
    await sleep(POLL_MS);
  }
}

// ---------------------------------------------------------------------------------------------
// the official client, and a raw signed https call for the bodies it hides

let target; // {host, port, basePath}

function client(overrides) {
  return makeOvh(
    Object.assign(
      {
        appKey: APPLICATION_KEY,
        appSecret: APPLICATION_SECRET,
        consumerKey: CONSUMER_KEY,
        host: target.host,
        port: target.port,
        basePath: target.basePath,
      },
      overrides || {},
    ),
  );
}

/** The status of the object at `path`, or '404' once the client rejects with error 404. */
async function statusOrGone(ovh, path, field) {
  try {
    const body = await ovh.requestPromised('GET', path);
    return field === undefined ? 'present' : body[field];
  } catch (e) {
    if (e && e.error === 404) {
      return '404';
    }
    throw e;
  }
}

/** `promise` must reject as `{error: status, message}` (the client's rejection shape). */
async function expectRejection(promise, status, message) {
  let result;
  try {
    result = await promise;
  } catch (e) {
    check(e !== null && typeof e === 'object', `expected a {error, message} rejection, got ${JSON.stringify(e)}`);
    checkEq(Object.keys(e).sort(), ['error', 'message'], 'rejection keys');
    checkEq(e.error, status, 'rejection error (HTTP status)');
    checkEq(e.message, message, 'rejection message');
    return e;
  }
  throw new StepFailed(`expected a rejection with error ${status}, but the call answered ${JSON.stringify(result)}`);
}

/**
 * A signed call with a plain `https.request`, signed exactly like npm `ovh` signs
 * (`https://` + host + basePath + path, no port). Options override the credentials and the
 * timestamp. Resolves to {status, headers, body} (body parsed when JSON).
 */
function rawCall(method, path, options) {
  const o = Object.assign(
    { appKey: APPLICATION_KEY, appSecret: APPLICATION_SECRET, consumerKey: CONSUMER_KEY, skew: 0, body: null },
    options || {},
  );
  const fullPath = target.basePath + path;
  const body = o.body === null ? '' : JSON.stringify(o.body);
  const timestamp = String(Math.round(Date.now() / 1000) + o.skew);
  const headers = { 'X-Ovh-Application': o.appKey, 'Content-Type': 'application/json' };
  if (o.consumerKey !== null) {
    const signed = [o.appSecret, o.consumerKey, method, 'https://' + target.host + fullPath, body, timestamp].join('+');
    headers['X-Ovh-Consumer'] = o.consumerKey;
    headers['X-Ovh-Timestamp'] = timestamp;
    headers['X-Ovh-Signature'] = '$1$' + crypto.createHash('sha1').update(signed).digest('hex');
  }
  if (body) {
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  return httpsRequest({ host: target.host, port: target.port, method, path: fullPath, headers }, body);
}

function httpsRequest(options, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        let parsed = text;
        try {
          parsed = text.length ? JSON.parse(text) : null;
        } catch (e) {
          // keep the text
        }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    if (body) {
      req.write(body);
    }
    req.end();
  });
}

/** The raw answer must have this status, an X-Ovh-Queryid and exactly this JSON body. */
async function expectRawError(answerPromise, status, body) {
  const answer = await answerPromise;
  checkEq(answer.status, status, 'raw HTTP status');
  check(answer.headers['x-ovh-queryid'], 'no X-Ovh-Queryid header on the error answer');
  check(
    /^application\/json/.test(answer.headers['content-type'] || ''),
    `error Content-Type ${answer.headers['content-type']}`,
  );
  checkEq(answer.body, body, 'raw error body');
}

/** An API error body, as the sandbox (like the real API) answers it. */
const apiError = (cls, message) => ({ class: cls, message });

// ---------------------------------------------------------------------------------------------
// the life

async function authBasics(ovh) {
  step('GET /auth/time');
  const time = await ovh.requestPromised('GET', '/auth/time');
  check(Number.isInteger(time), `/auth/time must be a bare integer, got ${JSON.stringify(time)}`);
  check(Math.abs(time - Date.now() / 1000) < 5, `sandbox time ${time} is far from local time`);
  done();

  step('GET /auth/currentCredential (sent unsigned: node never signs /auth paths)');
  // node-ovh sends no X-Ovh-Consumer on paths containing /auth, so the sandbox cannot tell
  // who is asking; the real API answers the same.
  await expectRejection(ovh.requestPromised('GET', '/auth/currentCredential'), 403, NOT_CREDENTIAL.message);
  done();
}

async function mongodbService(ovh) {
  step(`GET ${DB}`);
  const before = await ovh.requestPromised('GET', DB);
  check(Array.isArray(before), `expected a list of ids, got ${JSON.stringify(before)}`);
  done(`${before.length} service(s)`);

  step(`POST ${DB}`);
  const service = await ovh.requestPromised('POST', DB, {
    description: 'interop-node',
    plan: 'production',
    version: '7.0',
    nodesPattern: { flavor: 'db2-4', number: 3, region: 'GRA' },
    ipRestrictions: [{ ip: '198.51.100.0/24', description: 'bootstrap' }],
  });
  const id = service.id;
  check(id, `no id in ${JSON.stringify(service)}`);
  checkEq(service.engine, 'mongodb', 'engine');
  checkEq(service.status, 'CREATING', 'status right after POST');
  checkEq(service.description, 'interop-node', 'description');
  check((await ovh.requestPromised('GET', DB)).includes(id), `new id ${id} not listed`);
  done(id);
  const path = `${DB}/${id}`;

  step(`PUT ${path} while CREATING is refused`);
  const notReady = `Service ${id} is not in state READY`;
  await expectRejection(ovh.requestPromised('PUT', path, { description: 'too early' }), 409, notReady);
  await expectRawError(
    rawCall('PUT', path, { body: { description: 'too early' } }),
    409,
    apiError('Client::Conflict::ServiceNotReady', notReady),
  );
  done();

  step('wait for the service to be READY');
  const seen = await waitFor(`service ${id} READY`, () => statusOrGone(ovh, path, 'status'), (s) => s === 'READY');
  checkEq(seen[0], 'CREATING', 'first status polled');
  done(seen.join(' -> '));
  return { id, path };
}

const waitReady = (ovh, path) =>
  waitFor(`${path} READY`, () => statusOrGone(ovh, path, 'status'), (s) => s === 'READY');

async function ipRestrictions(ovh, path) {
  step(`PUT ${path} with the whole ipRestrictions list`);
  await ovh.requestPromised('PUT', path, {
    ipRestrictions: [
      { ip: '203.0.113.0/24', description: 'office' },
      { ip: '198.51.100.7/32', description: 'ci' },
    ],
  });
  const seen = await waitFor(
    `the ipRestrictions of ${path} to be READY`,
    async () =>
      (await ovh.requestPromised('GET', path)).ipRestrictions
        .map((r) => [r.ip, r.description, r.status])
        .sort(),
    (rows) => rows.every((row) => row[2] === 'READY'),
  );
  checkEq(
    seen[seen.length - 1].map((row) => row.slice(0, 2)),
    [
      ['198.51.100.7/32', 'ci'],
      ['203.0.113.0/24', 'office'],
    ],
    'ipRestrictions after PUT',
  );
  await waitReady(ovh, path);
  done();

  step(`GET ${path}/ipRestriction (deprecated per-IP routes)`);
  checkEq((await ovh.requestPromised('GET', path + '/ipRestriction')).sort(), ['198.51.100.7/32', '203.0.113.0/24'], 'ip blocks');
  done();

  const ip = '192.0.2.20/32';
  const entryPath = `${path}/ipRestriction/192.0.2.20%2F32`;
  step(`POST ${path}/ipRestriction ${ip}`);
  const entry = await ovh.requestPromised('POST', path + '/ipRestriction', { ip, description: 'per-ip' });
  checkEq(entry.ip, ip, 'ip');
  checkEq(entry.description, 'per-ip', 'description');
  check(['PENDING', 'READY'].includes(entry.status), `status ${entry.status}`);
  done(entry.status);

  step(`GET ${entryPath} until READY`);
  const statuses = await waitFor(`ip restriction ${ip} READY`, () => statusOrGone(ovh, entryPath, 'status'), (s) => s === 'READY');
  check((await ovh.requestPromised('GET', path + '/ipRestriction')).includes(ip), `${ip} not listed`);
  const listed = (await ovh.requestPromised('GET', path)).ipRestrictions.map((r) => r.ip);
  check(listed.includes(ip), `${ip} added per-IP is missing from the service's ipRestrictions ${JSON.stringify(listed)}`);
  await waitReady(ovh, path);
  done(statuses.join(' -> '));

  step(`PUT ${entryPath}`);
  await ovh.requestPromised('PUT', entryPath, { description: 'per-ip renamed' });
  const after = await ovh.requestPromised('GET', entryPath);
  checkEq(after.description, 'per-ip renamed', 'description after PUT');
  checkEq(after.ip, ip, 'ip after PUT');
  await waitReady(ovh, path);
  await waitFor(`ip restriction ${ip} READY`, () => statusOrGone(ovh, entryPath, 'status'), (s) => s === 'READY');
  done();

  step(`DELETE ${entryPath}`);
  checkEq(await ovh.requestPromised('DELETE', entryPath), null, 'DELETE answer');
  const gone = await waitFor(`ip restriction ${ip} gone`, () => statusOrGone(ovh, entryPath, 'status'), (s) => s === '404');
  check(!(await ovh.requestPromised('GET', path + '/ipRestriction')).includes(ip), `${ip} still listed`);
  await waitReady(ovh, path);
  done(gone.join(' -> '));

  step(`GET ${path}/ipRestriction/10.9.9.9%2F32 (never existed)`);
  const noIp = 'Ip restriction 10.9.9.9/32 does not exist';
  await expectRejection(ovh.requestPromised('GET', `${path}/ipRestriction/10.9.9.9%2F32`), 404, noIp);
  await expectRawError(
    rawCall('GET', `${path}/ipRestriction/10.9.9.9%2F32`),
    404,
    apiError('Client::NotFound::IpRestrictionNotFound', noIp),
  );
  done();
}

async function users(ovh, path) {
  step(`GET ${path}/user lists the built-in admin@admin`);
  const names = [];
  for (const userId of await ovh.requestPromised('GET', path + '/user')) {
    names.push((await ovh.requestPromised('GET', `${path}/user/${userId}`)).username);
  }
  check(names.includes('admin@admin'), `admin@admin missing from ${JSON.stringify(names)}`);
  done();

  step(`POST ${path}/user`);
  const user = await ovh.requestPromised('POST', path + '/user', { name: 'app', roles: ['readWrite@orders'] });
  checkEq(user.username, 'app@admin', 'username (mongodb appends @admin)');
  check(typeof user.password === 'string' && user.password.length > 0, `no password in the POST answer ${JSON.stringify(user)}`);
  checkEq(user.roles, ['readWrite@orders'], 'roles');
  const userPath = `${path}/user/${user.id}`;
  done(user.id);

  step(`GET ${userPath} until READY, without password`);
  const seen = await waitFor(`user ${user.id} READY`, () => statusOrGone(ovh, userPath, 'status'), (s) => s === 'READY');
  const read = await ovh.requestPromised('GET', userPath);
  check(!('password' in read), `GET user must not return the password: ${JSON.stringify(read)}`);
  checkEq(read.username, 'app@admin', 'username');
  done(seen.join(' -> '));

  step(`POST ${userPath}/credentials/reset`);
  const reset = await ovh.requestPromised('POST', userPath + '/credentials/reset');
  check(typeof reset.password === 'string' && reset.password.length > 0, `no password in the reset answer ${JSON.stringify(reset)}`);
  check(reset.password !== user.password, 'reset returned the same password');
  checkEq(reset.username, 'app@admin', 'username');
  check(!('password' in (await ovh.requestPromised('GET', userPath))), 'GET user returns the password after a reset');
  await waitFor(`user ${user.id} READY`, () => statusOrGone(ovh, userPath, 'status'), (s) => s === 'READY');
  done();

  step(`DELETE ${userPath}`);
  checkEq(await ovh.requestPromised('DELETE', userPath), null, 'DELETE answer');
  const gone = await waitFor(`user ${user.id} gone`, () => statusOrGone(ovh, userPath, 'status'), (s) => s === '404');
  check(!(await ovh.requestPromised('GET', path + '/user')).includes(user.id), 'deleted user still listed');
  done(gone.join(' -> '));
}

/** Follows a hosting task: todo -> doing -> done, then 404. Resolves to the statuses seen. */
async function followTask(ovh, task, fn) {
  checkEq(task.function, fn, 'task function');
  checkEq(task.status, 'todo', 'task status in the POST/DELETE answer');
  const taskPath = `${WEB}/tasks/${task.id}`;
  const seen = await waitFor(`task ${task.id} to finish (404)`, () => statusOrGone(ovh, taskPath, 'status'), (s) => s === '404');
  if (seen[0] !== task.status) {
    seen.unshift(task.status); // the answer that started the task counts as seen
  }
  const order = ['todo', 'doing', 'done', '404'];
  check(seen.every((s) => order.includes(s)), `unexpected task status in ${JSON.stringify(seen)}`);
  checkEq(seen, [...seen].sort((a, b) => order.indexOf(a) - order.indexOf(b)), 'task statuses in order');
  checkEq(order.filter((s) => seen.includes(s)), order, 'task statuses seen (todo -> doing -> done -> 404)');
  return seen;
}

async function hosting(ovh) {
  step(`GET ${WEB}`);
  checkEq((await ovh.requestPromised('GET', WEB)).serviceName, HOSTING, 'serviceName');
  done();

  const domain = 'shop-node.example.com';
  step(`POST ${WEB}/attachedDomain ${domain}`);
  const task = await ovh.requestPromised('POST', WEB + '/attachedDomain', {
    domain,
    path: 'www',
    cdn: 'none',
    firewall: 'none',
    ssl: false,
    bypassDNSConfiguration: true,
  });
  check(Number.isInteger(task.id), `task id must be an integer: ${JSON.stringify(task)}`);
  done(`task ${task.id}`);

  step(`GET ${WEB}/tasks?function=attachedDomain/create lists the task`);
  // node puts GET params in the query string (querystring.stringify) and signs it.
  const listed = await ovh.requestPromised('GET', WEB + '/tasks', { function: 'attachedDomain/create' });
  check(listed.includes(task.id), `task ${task.id} not in ${JSON.stringify(listed)}`);
  done();

  step(`follow task ${task.id}`);
  done((await followTask(ovh, task, 'attachedDomain/create')).join(' -> '));

  const domainPath = `${WEB}/attachedDomain/${domain}`;
  step(`GET ${domainPath}`);
  const attached = await ovh.requestPromised('GET', domainPath);
  checkEq(attached.domain, domain, 'domain');
  checkEq(attached.path, 'www', 'path');
  checkEq(attached.status, 'created', 'status');
  check((await ovh.requestPromised('GET', WEB + '/attachedDomain')).includes(domain), 'domain not listed');
  done();

  step(`DELETE ${domainPath}`);
  const deletion = await ovh.requestPromised('DELETE', domainPath);
  const seen = await followTask(ovh, deletion, 'attachedDomain/delete');
  const noDomain = { class: 'Client::NotFound', message: `The requested object (domain = ${domain}) does not exist` };
  await expectRejection(ovh.requestPromised('GET', domainPath), 404, noDomain.message);
  await expectRawError(rawCall('GET', domainPath), 404, noDomain);
  check(!(await ovh.requestPromised('GET', WEB + '/attachedDomain')).includes(domain), 'domain still listed');
  done(seen.join(' -> '));
}

async function stackMysql(ovh) {
  // RunAbove's Managed Stacks guide, its five calls as written, on the sandbox's RunAbove base
  // path (the same host and credentials): every answer is the guide's.
  const runabove = client({ basePath: '/runabove/1.0' });
  step('POST /stackMysql (RunAbove)');
  checkEq(await runabove.requestPromised('POST', '/stackMysql'), { msg: 'cluster created' }, 'create answer');
  const listed = await runabove.requestPromised('GET', '/stackMysql');
  checkEq(Object.keys(listed), ['products'], 'GET /stackMysql keys');
  const id = listed.products[listed.products.length - 1].id;
  check(Number.isInteger(id), `cluster id ${JSON.stringify(listed)}`);
  done(id);

  const stackPath = `/stackMysql/${id}`;
  step(`GET ${stackPath} until active`);
  const seen = await waitFor(`stack ${id} active`, async () => {
    const cluster = await runabove.requestPromised('GET', stackPath);
    checkEq(Object.keys(cluster).sort(), ['active', 'nodes', 'product_id'], `GET ${stackPath} keys`);
    cluster.nodes.forEach((node) => checkEq(Object.keys(node).sort(), ['addr', 'product_id'], 'node keys'));
    return cluster.active ? 'active' : 'inactive';
  }, (v) => v === 'active');
  const status = await runabove.requestPromised('GET', stackPath + '/status');
  check(Object.keys(status).length > 0, `status ${JSON.stringify(status)}`);
  done(seen.join(' -> '));

  step(`DELETE ${stackPath}`);
  checkEq(await runabove.requestPromised('DELETE', stackPath), { msg: 'cluster deleted' }, 'delete answer');
  const missing = { class: 'Client::NotFound', message: `The requested object (id = ${id}) does not exist` };
  await expectRejection(runabove.requestPromised('GET', stackPath), 404, missing.message);
  // Not an OVH route.
  await expectRejection(ovh.requestPromised('GET', '/stackMysql'), 404, `Got an invalid (or empty) URL: GET ${target.basePath}/stackMysql`);
  done('404');
}

async function deleteService(ovh, id, path) {
  step(`DELETE ${path}`);
  checkEq(await ovh.requestPromised('DELETE', path), null, 'DELETE answer');
  const seen = await waitFor(`service ${id} gone`, () => statusOrGone(ovh, path, 'status'), (s) => s === '404');
  check(!(await ovh.requestPromised('GET', DB)).includes(id), 'deleted service still listed');
  const noService = `Service ${id} does not exist`;
  await expectRejection(ovh.requestPromised('GET', path), 404, noService);
  await expectRawError(rawCall('GET', path), 404, apiError('Client::NotFound::ServiceNotFound', noService));
  done(seen.join(' -> '));
}

// ---------------------------------------------------------------------------------------------
// failures the official client must surface

async function authFailures(ovh) {
  step('wrong application secret -> 400 INVALID_SIGNATURE');
  await expectRejection(client({ appSecret: 'not-the-secret' }).requestPromised('GET', DB), 400, INVALID_SIGNATURE.message);
  await expectRawError(rawCall('GET', DB, { appSecret: 'not-the-secret' }), 400, INVALID_SIGNATURE);
  done();

  step('a raw call signed over the URL with the port (python-style) is accepted over https too');
  const withPort = await (async () => {
    const fullPath = target.basePath + '/auth/currentCredential';
    const timestamp = String(Math.round(Date.now() / 1000));
    const url = `https://${target.host}:${target.port}${fullPath}`;
    const signed = [APPLICATION_SECRET, CONSUMER_KEY, 'GET', url, '', timestamp].join('+');
    return httpsRequest({
      host: target.host,
      port: target.port,
      method: 'GET',
      path: fullPath,
      headers: {
        'X-Ovh-Application': APPLICATION_KEY,
        'X-Ovh-Consumer': CONSUMER_KEY,
        'X-Ovh-Timestamp': timestamp,
        'X-Ovh-Signature': '$1$' + crypto.createHash('sha1').update(signed).digest('hex'),
      },
    });
  })();
  checkEq(withPort.status, 200, `status (body ${JSON.stringify(withPort.body)})`);
  checkEq(withPort.body.status, 'validated', 'credential status');
  done();

  step('stale timestamp (apiTimeDiff -1000s) -> 400 QUERY_TIME_OUT');
  await expectRejection(client({ apiTimeDiff: -1000 }).requestPromised('GET', DB), 400, QUERY_TIME_OUT.message);
  await expectRawError(rawCall('GET', DB, { skew: -1000 }), 400, QUERY_TIME_OUT);
  done();

  step('unknown application key -> 403 INVALID_KEY');
  await expectRejection(client({ appKey: 'unknown-application' }).requestPromised('GET', DB), 403, INVALID_KEY.message);
  await expectRawError(rawCall('GET', DB, { appKey: 'unknown-application' }), 403, INVALID_KEY);
  done();

  step('unknown consumer key -> 403 NOT_CREDENTIAL');
  await expectRejection(client({ consumerKey: 'unknown-consumer-key' }).requestPromised('GET', DB), 403, NOT_CREDENTIAL.message);
  await expectRawError(rawCall('GET', DB, { consumerKey: 'unknown-consumer-key' }), 403, NOT_CREDENTIAL);
  done();

  step('404: unknown project');
  const noProject = '/cloud/project/no-such-project/database/mongodb';
  await expectRejection(ovh.requestPromised('GET', noProject), 404, SERVICE_DOES_NOT_EXIST.message);
  await expectRawError(rawCall('GET', noProject), 404, SERVICE_DOES_NOT_EXIST);
  done();

  step('404: unknown hosting');
  await expectRejection(ovh.requestPromised('GET', '/hosting/web/no-such-hosting.example'), 404, SERVICE_DOES_NOT_EXIST.message);
  await expectRawError(rawCall('GET', '/hosting/web/no-such-hosting.example'), 404, SERVICE_DOES_NOT_EXIST);
  done();

  step('404: unknown mongodb service');
  const missingId = '00000000-0000-4000-8000-000000000000';
  const noService = `Service ${missingId} does not exist`;
  await expectRejection(ovh.requestPromised('GET', `${DB}/${missingId}`), 404, noService);
  await expectRawError(rawCall('GET', `${DB}/${missingId}`), 404, apiError('Client::NotFound::ServiceNotFound', noService));
  done();

  step('404: unknown route');
  const noRoute = { class: 'Client::NotFound', message: `Got an invalid (or empty) URL: GET ${target.basePath}/no/such/route` };
  await expectRejection(ovh.requestPromised('GET', '/no/such/route'), 404, noRoute.message);
  await expectRawError(rawCall('GET', '/no/such/route'), 404, noRoute);
  done();
}

async function consumerKeyFlow() {
  step('POST /auth/credential with read-only rules on the project databases');
  const anonymous = client({ consumerKey: undefined });
  const rules = [
    { method: 'GET', path: `/cloud/project/${PROJECT}/database` },
    { method: 'GET', path: `/cloud/project/${PROJECT}/database/*` },
  ];
  const answer = await anonymous.requestPromised('POST', '/auth/credential', { accessRules: rules });
  checkEq(answer.state, 'pendingValidation', 'state');
  check(typeof answer.consumerKey === 'string' && answer.consumerKey.length > 0, `no consumerKey in ${JSON.stringify(answer)}`);
  const root = `https://${target.host}:${target.port}`;
  check(answer.validationUrl.startsWith(root + '/auth/?credentialToken='), `validationUrl ${answer.validationUrl}`);
  done();
  const restricted = client({ consumerKey: answer.consumerKey });

  step('the pending consumer key -> 403 INVALID_CREDENTIAL');
  await expectRejection(restricted.requestPromised('GET', DB), 403, INVALID_CREDENTIAL.message);
  await expectRawError(rawCall('GET', DB, { consumerKey: answer.consumerKey }), 403, INVALID_CREDENTIAL);
  done();

  step('GET the validationUrl validates the key');
  const url = new URL(answer.validationUrl);
  const page = await httpsRequest({ host: url.hostname, port: url.port, method: 'GET', path: url.pathname + url.search });
  checkEq(page.status, 200, 'validation page status');
  done();

  step('the new key reads what it was granted');
  check(Array.isArray(await restricted.requestPromised('GET', DB)), `GET ${DB}`);
  done();

  step('the new key outside its rules -> 403 NOT_GRANTED_CALL');
  await expectRejection(restricted.requestPromised('POST', DB, { description: 'not allowed' }), 403, NOT_GRANTED_CALL.message);
  await expectRejection(restricted.requestPromised('GET', WEB), 403, NOT_GRANTED_CALL.message);
  await expectRawError(rawCall('GET', WEB, { consumerKey: answer.consumerKey }), 403, NOT_GRANTED_CALL);
  done();
}

function parseEndpoint(text) {
  let url;
  try {
    url = new URL(text);
  } catch (e) {
    return null;
  }
  if (url.protocol !== 'https:' || !url.pathname.replace(/\/$/, '').endsWith('/1.0')) {
    return null;
  }
  return { host: url.hostname, port: Number(url.port || 443), basePath: url.pathname.replace(/\/$/, '') };
}

async function main() {
  const endpoint = process.argv[2] || process.env.SANDBOX_ENDPOINT;
  if (!endpoint) {
    console.error('usage: node_lifecycle.js ENDPOINT (e.g. https://127.0.0.1:8443/1.0), or set SANDBOX_ENDPOINT');
    process.exit(2);
  }
  target = parseEndpoint(endpoint);
  if (!target) {
    console.error(`error: the endpoint must be https://HOST:PORT/1.0 (npm ovh speaks only https), got ${endpoint}`);
    process.exit(2);
  }
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (!ca || !fs.existsSync(ca)) {
    console.error('error: NODE_EXTRA_CA_CERTS must name the sandbox CA (reconcile sandbox serve --tls --tls-ca-out FILE)');
    process.exit(2);
  }
  const version = require('ovh/package.json').version;
  if (version !== '2.0.3') {
    console.error(`warning: these checks were written for npm ovh 2.0.3, found ${version}`);
  }
  console.log(`npm ovh ${version} against ${endpoint}`);

  const ovh = client();
  const databaseLife = async () => {
    const { id, path } = await mongodbService(ovh);
    await ipRestrictions(ovh, path);
    await users(ovh, path);
    await deleteService(ovh, id, path);
  };
  const sections = [
    ['auth', () => authBasics(ovh)],
    ['database', databaseLife],
    ['hosting', () => hosting(ovh)],
    ['stack', () => stackMysql(ovh)],
    ['errors', () => authFailures(ovh)],
    ['consumer-key', consumerKeyFlow],
  ];
  // INTEROP_ONLY=auth,errors runs a subset while debugging; CI runs everything.
  const only = (process.env.INTEROP_ONLY || '').split(',').filter(Boolean);
  for (const [name, run] of sections) {
    if (only.length === 0 || only.includes(name)) {
      await run();
    }
  }
  console.log('all steps passed');
}

main().catch((e) => {
  if (e instanceof StepFailed) {
    console.log(`FAIL ${currentStep}: ${e.message}`);
  } else if (e && typeof e === 'object' && 'error' in e && !(e instanceof Error)) {
    // the client's rejection: {error: <status or errno>, message: <body.message>}
    console.log(`FAIL ${currentStep}: unexpected rejection ${JSON.stringify(e)}`);
  } else {
    console.log(`FAIL ${currentStep}: ${e && e.stack ? e.stack : JSON.stringify(e)}`);
  }
  process.exit(1);
});
