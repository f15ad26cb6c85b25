import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.js';
import { AppError } from './errors.js';
import { sendError } from './http/errors.js';
import { consoleDir } from '@tether/console';
import { consoleRoutes } from './http/console-routes.js';
import { clientErrorHandler } from './http/client-errors.js';
import { containsNonFinite, containsNul } from './services/nul-guard.js';
import { healthRoutes } from './http/health-routes.js';
import { LiveReaders } from './http/live-readers.js';
import { registerSecurityHeaders, securityHeaders } from './http/security.js';
import { Authenticator, registerAuthentication } from './http/authenticate.js';
import { appendFastPath, type AppendFastPath } from './http/append-fast-path.js';
import { takeAppendConnections, type WireAppends } from './http/wire-appends.js';
import { authRoutes } from './http/auth-routes.js';
import { Metrics, metricsRoutes, registerMetrics } from './http/metrics.js';
import { AuthService } from './services/auth-service.js';
import { registerOpenApi } from './http/openapi.js';
import { fileRoutes } from './http/file-routes.js';
import { sessionRoutes } from './http/session-routes.js';
import { stateRoutes } from './http/state-routes.js';
import { sessionWatchRoutes } from './http/session-watch.js';
import { streamRoutes } from './http/stream-routes.js';
import { interactionRoutes } from './http/interaction-routes.js';
import { runnerRoutes } from './http/runner-routes.js';
import { turnRoutes } from './http/turn-routes.js';
import { transcriptRoutes } from './http/transcript-routes.js';
import { searchRoutes } from './http/search-routes.js';
import { ImportService } from './services/import-service.js';
import { TranscriptService } from './services/transcript-service.js';
import { InteractionService } from './services/interaction-service.js';
import { TurnService } from './services/turn-service.js';
import { SessionChannelPolicy } from './services/session-channels.js';
import { SessionDataService } from './services/session-data-service.js';
import { SessionService } from './services/session-service.js';
import type { Clock } from './services/clock.js';
import type { Notifier } from './services/live-hub.js';
import { StreamService } from './services/stream-service.js';
import type { Store } from './storage/types.js';

export interface AppDeps {
  config: ServerConfig;
  store: Store;
  notifier: Notifier;
  logger: Logger;
  clock: Clock;
}

export interface TetherApp {
  app: FastifyInstance;
  live: LiveReaders;
  streams: StreamService;
  sessions: SessionService;
  /** Turns and runners; the server's sweeper runs its lease checks. */
  turns: TurnService;
  /** API keys, session tokens and projects. */
  auth: AuthService;
  metrics: Metrics;
  /** Transcripts and search; the server's sweeper runs its retention. */
  transcripts: TranscriptService;
  /** Every route registered, as `METHOD url`; tests hold OpenAPI and auth rules against it. */
  routes: { method: string; url: string }[];
  /** The raw-HTTP path that answers most appends ahead of Fastify. */
  fastPath: AppendFastPath;
  /** Reads appends off each connection before Node's HTTP server gets it. */
  wire: WireAppends;
}

/** Builds the HTTP application without listening; tests build their own. */
export async function buildApp(deps: AppDeps): Promise<TetherApp> {
  const { config, store, notifier, logger, clock } = deps;
  const maxParamLength = config.maxPathLength * 3;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    // Per-request lines are logged at debug level by our own hook below.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength },
    bodyLimit: config.maxMessageBytes,
    http: { maxHeaderSize: config.maxHeaderBytes },
    clientErrorHandler,
    return503OnClosing: true,
    // Fastify answers a URL it cannot decode before any route or error handler
    // runs; give that answer our error shape too.
    frameworkErrors: (error, _request, reply) => sendError(reply, 'BAD_REQUEST', `malformed request URL (${error.code})`),
    ajv: {
      // Unknown fields are errors, not silently dropped; query values are coerced and
      // single values of repeatable parameters become arrays.
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
  });
  const live = new LiveReaders();
  const routes: TetherApp['routes'] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  const sessions: SessionService = new SessionService({
    sessions: store.sessions,
    notifier,
    clock,
    afterFork: (projectId, id) => transcripts.rebuild(projectId, id),
  });
  const transcripts = new TranscriptService({ store, sessions, clock });
  const imports = new ImportService({ store, sessions, notifier, clock });
  const turns = new TurnService({
    store,
    sessions,
    notifier,
    clock,
    settings: {
      turnRetries: config.turnRetries,
      maxClaimWaitMs: config.maxClaimWaitMs,
      claimPollMs: config.claimPollMs,
      sweepBatchSize: config.sweepBatchSize,
    },
  });
  const interactions = new InteractionService({ store, sessions, turns, clock });
  const policy = new SessionChannelPolicy({
    sessions: store.sessions,
    sessionService: sessions,
    clock,
    projections: { turns, interactions },
  });
  const streams = new StreamService({ store, notifier, clock, policy });

  const auth = new AuthService({
    store: store.auth,
    clock,
    defaultTokenTtlSeconds: config.sessionTokenTtlSeconds,
    maxTokenTtlSeconds: config.maxSessionTokenTtlSeconds,
  });
  const metrics = new Metrics();
  registerMetrics(app, metrics);
  const security = securityHeaders(config.corsOrigins);
  registerSecurityHeaders(app, security);
  const authenticator = new Authenticator({
    auth,
    sessions: store.sessions,
    disabled: config.insecureNoAuth,
    rateLimitPerSecond: config.rateLimitPerSecond,
    rateLimitBurst: config.rateLimitBurst,
    maxLiveReadersPerKey: config.maxLiveReadersPerKey,
    maxPathLength: config.maxPathLength,
  });
  registerAuthentication(app, authenticator, { disabled: config.insecureNoAuth, maxLiveReadersPerKey: config.maxLiveReadersPerKey });
  // An empty JSON body means "no fields": routes with optional bodies (close, fork)
  // accept a bare POST. Prototype-poisoning keys are rejected as Fastify does by default.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return parseJson(request, body as string, (error, parsed) => {
      if (!error && containsNul(parsed)) return done(new AppError('BAD_REQUEST', 'JSON strings may not contain NUL (\\u0000)'), undefined);
      return done(error, parsed);
    });
  });
  app.addHook('preValidation', (request, _reply, done) => {
    if (containsNul(request.params) || containsNul(request.query)) {
      return done(new AppError('BAD_REQUEST', 'the URL may not contain NUL (%00)'));
    }
    if (request.body === undefined && request.routeOptions.schema?.body) request.body = {};
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    // After validation, which coerces query strings to numbers.
    const checked = request.routeOptions.schema?.body ? [request.query, request.body] : [request.query];
    if (checked.some(containsNonFinite)) {
      return done(new AppError('VALIDATION_FAILED', 'numbers must be finite', { rule: 'finite' }));
    }
    done();
  });
  if (logger.isLevelEnabled('debug')) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug({ method: request.method, url: request.url.split('?')[0], status: reply.statusCode }, 'request');
      done();
    });
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) return sendError(reply, error.code, error.message, error.details);
    if (error.validation) {
      const [first] = error.validation;
      const field = `${error.validationContext ?? 'request'}${first?.instancePath ?? ''}`.replace(/\//g, '.');
      return sendError(reply, 'VALIDATION_FAILED', error.message, {
        field: (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty
          ? `${field}.${(first!.params as { additionalProperty: string }).additionalProperty}`
          : field,
        rule: first?.keyword,
      });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 413) return sendError(reply, 'PAYLOAD_TOO_LARGE', 'request body is too large');
    if (status === 415) return sendError(reply, 'UNSUPPORTED_MEDIA_TYPE', error.message);
    if (status >= 400 && status < 500) return sendError(reply, 'BAD_REQUEST', error.message);
    request.log.error({ err: error }, 'request failed');
    return sendError(reply, 'INTERNAL', 'internal error');
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 'NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`));

  await registerOpenApi(app, '0.1.0');
  await app.register(healthRoutes, { store, isDraining: () => live.isDraining });
  await app.register(streamRoutes, {
    service: streams,
    live,
    limits: {
      maxMessageBytes: config.maxMessageBytes,
      maxPathLength: config.maxPathLength,
      maxReadBytes: config.maxReadBytes,
      longPollTimeoutMs: config.longPollTimeoutMs,
      sseKeepAliveMs: config.sseKeepAliveMs,
      sseMaxDurationMs: config.sseMaxDurationMs,
    },
    onAppend: () => metrics.appends++,
  });
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    wire.closeIdle();
    done();
  });
  const fastPath = appendFastPath({
    service: streams,
    authenticator,
    security,
    metrics,
    logger,
    maxMessageBytes: config.maxMessageBytes,
    maxPathLength: config.maxPathLength,
    maxParamLength,
    isClosing: () => closing,
    onAppend: () => metrics.appends++,
  });
  installAppendFastPath(app, fastPath);
  const wire = takeAppendConnections(app.server, fastPath, {
    maxHeaderBytes: config.maxHeaderBytes,
    maxMessageBytes: config.maxMessageBytes,
    isClosing: () => closing,
  });
  await app.register(sessionRoutes, { sessions, auth });
  await app.register(authRoutes, { auth, sessions });
  await app.register(metricsRoutes, { metrics, live, turns: store.turns });
  const sessionData = new SessionDataService({
    sessions,
    data: store.sessionData,
    clock,
    limits: { maxStateBytes: config.maxStateBytes, maxFileBytes: config.maxFileBytes, maxSessionFileBytes: config.maxSessionFileBytes },
  });
  await app.register(stateRoutes, { data: sessionData });
  await app.register(fileRoutes, { data: sessionData });
  await app.register(sessionWatchRoutes, {
    sessions,
    store: store.sessions,
    notifier,
    live,
    keepAliveMs: config.sseKeepAliveMs,
  });
  await app.register(turnRoutes, { sessions, turns });
  await app.register(runnerRoutes, { sessions, turns, live });
  await app.register(interactionRoutes, { interactions });
  await app.register(transcriptRoutes, { transcripts });
  await app.register(searchRoutes, { transcripts, imports });
  await app.register(consoleRoutes, { dir: config.consoleDir === undefined ? consoleDir : config.consoleDir });
  return { app, live, streams, sessions, turns, transcripts, auth, metrics, routes, fastPath, wire };
}

/** Puts the append fast path in front of Fastify's own request listener on the same server. */
function installAppendFastPath(app: FastifyInstance, fast: (req: IncomingMessage, res: ServerResponse) => boolean): void {
  const [fastify, ...others] = app.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (!fastify || others.length > 0) throw new Error('expected exactly one request listener (Fastify\'s) on the server');
  app.server.removeListener('request', fastify);
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!fast(req, res)) fastify(req, res);
  });
}
