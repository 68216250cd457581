// The two models of the interop contract, with the settings a new Sails 1.5
// app's `config/models.js` gives (`schema: true`, numeric auto-increment `id`,
// `createdAt`/`updatedAt` in milliseconds, `cascadeOnDestroy`), stored by
// sails-disk in memory: empty at each start.
'use strict';

/** `sails.config.models`: the defaults every model gets. */
const modelDefaults = {
  schema: true,
  // In memory there is nothing to keep; `drop` also spares the start-up prompt.
  migrate: 'drop',
  attributes: {
    createdAt: { type: 'number', autoCreatedAt: true },
    updatedAt: { type: 'number', autoUpdatedAt: true },
    id: { type: 'number', autoIncrement: true },
  },
  cascadeOnDestroy: true,
};

/** The model definitions, by identity (`sails.config.orm.moduleDefinitions.models`). */
const definitions = {
  user: {
    globalId: 'User',
    attributes: {
      name: { type: 'string' },
      pets: { collection: 'pet', via: 'owner' },
    },
  },
  pet: {
    globalId: 'Pet',
    attributes: {
      name: { type: 'string', required: true },
      species: { type: 'string' },
      owner: { model: 'user' },
    },
  },
};

/** `sails.config.datastores`: sails-disk, without files. */
const datastores = {
  default: { adapter: 'sails-disk', inMemoryOnly: true },
};

module.exports = { modelDefaults, definitions, datastores };
