//! Keymap parsing tests.
