pub fn placeholder_to_replace() {}
