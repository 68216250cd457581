//! Room names of Sails' resourceful pub/sub, shared so that every side agrees.

/// The room of one record: `sails_model_<identity>_<id>:<identity>`.
pub fn instance_room(identity: &str, id: &str) -> String {
    format!("sails_model_{identity}_{id}:{identity}")
}

/// The class room, whose members hear about created records:
/// `sails_model_create_<identity>`.
pub fn class_room(identity: &str) -> String {
    format!("sails_model_create_{identity}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_match_sails() {
        assert_eq!(instance_room("pet", "7"), "sails_model_pet_7:pet");
        assert_eq!(class_room("pet"), "sails_model_create_pet");
    }
}
