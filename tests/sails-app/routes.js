// The interop routes, written as a Sails 1 app would write them: `sails.sockets`
// for rooms and messages, the model's resourceful pub/sub methods for pets.
// Each route answers HTTP and socket requests alike (Sails routes both).
'use strict';

const { handwrittenPets } = require('./handwritten-pets');

const SOCKETS_ONLY = 'This endpoint only answers socket requests.';

/** Wraps a handler that needs a socket request: 400 over HTTP. */
function socketOnly(handler) {
  return function (req, res) {
    if (!req.isSocket) return res.badRequest(SOCKETS_ONLY);
    return handler(req, res);
  };
}

/** The request's `{event?, data, omitSender?}` body. */
function sendBody(req) {
  const body = req.body && typeof req.body === 'object' ? req.body : {};
  return { event: body.event, data: body.data, omitSender: Boolean(body.omitSender) };
}

/**
 * Sends `data` to `rooms` the way a Sails app writes it: with an event name
 * when there is one, else the documented short form `broadcast(rooms, data,
 * [socketToOmit])` (whose sender omission Sails 1.5.18 gets wrong).
 */
function broadcast(sails, rooms, { event, data }, omit) {
  if (event) sails.sockets.broadcast(rooms, event, data, omit);
  else sails.sockets.broadcast(rooms, data, omit);
}

/** Like `broadcast`, for `sails.sockets.blast([event], data, [socketToOmit])`. */
function blast(sails, { event, data }, omit) {
  if (event) sails.sockets.blast(event, data, omit);
  else sails.sockets.blast(data, omit);
}

/** The records of the hand-written pet routes, one set per Sails app. */
const petsBySails = new WeakMap();

/** The hand-written routes' `pet`, with Sails' pub/sub methods (see handwritten-pets.js). */
function petModel(req) {
  const sails = req._sails;
  if (!petsBySails.has(sails)) petsBySails.set(sails, handwrittenPets(sails));
  return petsBySails.get(sails);
}

/** The stored id of the pet whose id prints as the URL's `:id`, or the URL text itself. */
function petId(req) {
  const record = petModel(req).store.find(req.params.id);
  return record ? record.id : req.params.id;
}

/** What the handler saw. */
function echo(req, res) {
  return res.json({
    method: req.method,
    url: req.url,
    path: req.path,
    query: req.query,
    body: req.body === undefined ? {} : req.body,
    isSocket: Boolean(req.isSocket),
    socketId: req.isSocket ? req._sails.sockets.getId(req) : null,
    headers: req.headers,
  });
}

module.exports = {
  'GET /hello': (req, res) => res.send('ok!'),

  // Sails binds a verb-less address to every verb but OPTIONS (which Express
  // answers itself with an `Allow` list), so OPTIONS gets its own address.
  '/echo': echo,
  'OPTIONS /echo': echo,

  'GET /count': (req, res) => {
    if (!req.session) return res.serverError('No session.');
    req.session.count = (req.session.count || 0) + 1;
    return res.json(req.session.count);
  },

  'GET /status/:code': (req, res) => {
    const code = Number(req.params.code);
    if (!Number.isInteger(code) || code < 100 || code > 999) return res.badRequest('not a status code');
    return res.status(code).json({ code });
  },

  'GET /redirect': (req, res) => res.redirect('/hello'),

  'GET /slow': (req, res) => {
    const ms = Math.min(Math.max(Number(req.query.ms) || 0, 0), 60_000);
    setTimeout(() => res.send('slow'), ms);
  },

  'GET /me': socketOnly((req, res) => {
    const id = req._sails.sockets.getId(req);
    const rooms = [...req.socket.rooms].filter((room) => room !== id).sort();
    return res.json({ id, rooms });
  }),

  'PUT /rooms/:room/join': socketOnly((req, res) => {
    const { room } = req.params;
    req._sails.sockets.join(req, room, (error) => (error ? res.serverError(error) : res.json({ room })));
  }),

  'PUT /rooms/:room/leave': socketOnly((req, res) => {
    const { room } = req.params;
    req._sails.sockets.leave(req, room, (error) => (error ? res.serverError(error) : res.json({ room })));
  }),

  'GET /rooms/:room/members': (req, res) => {
    const members = req._sails.io.sockets.adapter.rooms.get(req.params.room);
    return res.json(members ? [...members].sort() : []);
  },

  'POST /rooms/:room/broadcast': (req, res) => {
    const body = sendBody(req);
    broadcast(req._sails, req.params.room, body, body.omitSender && req.isSocket ? req : undefined);
    return res.json({ sent: true });
  },

  'POST /blast': (req, res) => {
    const body = sendBody(req);
    blast(req._sails, body, body.omitSender && req.isSocket ? req : undefined);
    return res.json({ sent: true });
  },

  'POST /sockets/:id/emit': (req, res) => {
    broadcast(req._sails, req.params.id, sendBody(req));
    return res.json({ sent: true });
  },

  'PUT /pets/watch': socketOnly((req, res) => {
    petModel(req)._watch(req);
    return res.json({ watching: true });
  }),

  'PUT /pets/unwatch': socketOnly((req, res) => {
    req._sails.sockets.leave(req, petModel(req)._classRoom(), (error) =>
      error ? res.serverError(error) : res.json({ watching: false }),
    );
  }),

  'PUT /pets/:id/subscribe': socketOnly((req, res) => {
    const id = petId(req);
    petModel(req).subscribe(req, [id]);
    return res.json({ subscribed: id });
  }),

  'PUT /pets/:id/unsubscribe': socketOnly((req, res) => {
    const id = petId(req);
    petModel(req).unsubscribe(req, [id]);
    return res.json({ unsubscribed: id });
  }),

  'POST /pets': (req, res) => {
    const Pet = petModel(req);
    const record = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? structuredClone(req.body) : null;
    if (!record || record.id === undefined || record.id === null) return res.badRequest('A pet needs an `id`.');
    Pet.store.save(record);
    // As the create blueprint does: tell the class room (sender omitted) and
    // subscribe its members to the new record.
    Pet._publishCreate(record, req);
    return res.status(201).json(record);
  },

  'PATCH /pets/:id': (req, res) => {
    const Pet = petModel(req);
    const record = Pet.store.find(req.params.id);
    if (!record) return res.notFound();
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) return res.badRequest('Expected an object of values.');
    const previous = structuredClone(record);
    const values = structuredClone(req.body);
    delete values.id;
    Object.assign(record, values);
    // As the update blueprint does: the changed values, the record before.
    Pet._publishUpdate(record.id, { ...values, id: record.id }, req, { previous });
    return res.json(record);
  },

  'DELETE /pets/:id': (req, res) => {
    const Pet = petModel(req);
    const previous = Pet.store.remove(req.params.id);
    if (!previous) return res.notFound();
    // As the destroy blueprint does (this also empties the record's room).
    Pet._publishDestroy(previous.id, req, { previous });
    return res.json(previous);
  },

  'POST /pets/:id/message': (req, res) => {
    const data = req.body && typeof req.body === 'object' ? req.body.data : undefined;
    petModel(req).publish([petId(req)], data);
    return res.json({ sent: true });
  },
};
