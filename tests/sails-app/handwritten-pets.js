// The records of the hand-written `/pets…` routes, apart from the `pet` model.
//
// The contract keeps these routes as they were before the models existed: their
// own records, kept in a Map, whose `id` stays the number or string it was
// created with. The `pet` model of the ORM stores numbers only, and Sails'
// pub/sub turns an id into a number when the model's primary key is a number
// (`parseInt("a")` is `NaN`). So these routes publish through a twin of the
// model: the same identity (hence the same rooms, `sails_model_create_pet` and
// `sails_model_pet_<id>:pet`, and the same event name), no attribute
// definitions (ids left as they are), no associations.
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

/**
 * A `pet` with Sails' resourceful pub/sub methods (`subscribe`, `publish`,
 * `_watch`, `_publishCreate`, …) and a `store` of records. The pubsub hook
 * only augments what is in `sails.models`, so it is handed this object alone
 * for one synchronous call, then the models are put back.
 */
function handwrittenPets(sails) {
  const pet = {
    identity: 'pet',
    globalId: 'Pet',
    primaryKey: 'id',
    attributes: {},
    associations: [],
    store: new PetStore(),
  };
  const models = sails.models;
  try {
    sails.models = { pet };
    sails.hooks.pubsub.augmentModels();
    return sails.models.pet;
  } finally {
    sails.models = models;
  }
}

module.exports = { handwrittenPets };
