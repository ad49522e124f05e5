"""A ticket's whole life: its store (rows and the audit log), what staff do to it (actions), a customer's message
becoming part of it (ingest) and the desk's reaction (reactions), escalation, return-visit surveys, its staff thread
(threads), what people read of it (views), key messages and FAQ entries made from it."""
