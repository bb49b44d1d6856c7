"""Pure domain logic: vocabulary, time, math. Imports nothing from store, services or api."""
