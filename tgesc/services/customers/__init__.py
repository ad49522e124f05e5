"""Customers as the desk knows them: finding and listing them (`directory`), and banning them (`bans`)."""
