//! trybuild fixtures live in fail/ and pass/.
