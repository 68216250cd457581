// A stand-in for sails-hook-orm: one model, `pet`, kept in a Map.
//
// Sails' own `pubsub` hook waits for an `orm` hook and then decorates every
// model in `sails.models` with the resourceful pub/sub methods (`subscribe`,
// `publish`, `_watch`, `_introduce`, `_publishCreate`, ...). Handing it this
// plain model gets us exactly Sails' room names and payloads without Waterline,
// whose schemas would force one type on `id` (the interop contract keeps an id
// as it was created, number or string).
'use strict';

/** The pets, by the text of their id (a URL's `:id` matches a record whose id prints the same). */
class PetStore {
  constructor() {
    this.records = new Map();
  }

  find(id) {
    return this.records.get(String(id));
  }

  save(record) {
    this.records.set(String(record.id), record);
    return record;
  }

  remove(id) {
    const record = this.find(id);
    if (record) this.records.delete(String(id));
    return record;
  }
}

module.exports = function memoryOrm(sails) {
  return {
    initialize(done) {
      sails.models = {
        pet: {
          identity: 'pet',
          globalId: 'Pet',
          primaryKey: 'id',
          // No attribute definitions: Sails' pub/sub then leaves ids as they are.
          attributes: {},
          associations: [],
          store: new PetStore(),
        },
      };
      // Sails emits `hook:orm:loaded` once this returns; `pubsub` augments the model then.
      return done();
    },
  };
};
