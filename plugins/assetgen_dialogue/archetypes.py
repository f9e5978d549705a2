"""The Shakespeare corpus's NPC archetypes, in a fixed order (their index is a stable class
id). Kept apart from the corpus builder (:mod:`.corpus`) so that the generator's options can
list them without importing it."""

from __future__ import annotations

ARCHETYPES: tuple[str, ...] = (
    "noble",
    "soldier",
    "servant",
    "fool",
    "messenger",
    "lover",
    "elder",
    "clergy",
    "supernatural",
    "villain",
    "commoner",
)
ARCHETYPE_DESCRIPTIONS: dict[str, str] = {
    "noble": "kings, queens, dukes, lords, ladies, senators and other rulers",
    "soldier": "soldiers, captains, generals, guards, watchmen, officers, warriors",
    "servant": "servants, pages, nurses, stewards, porters, waiting-women, comic servants",
    "fool": "fools, clowns, jesters and the great comic wits and butts",
    "messenger": "messengers, posts, heralds, ambassadors and news-bearing gentlemen",
    "lover": "the romantic leads of the comedies and the love tragedies",
    "elder": "old men and women: old fathers, old counsellors, old servants",
    "clergy": "friars, priests, bishops, cardinals, parsons and soothsayers",
    "supernatural": "ghosts, witches, fairies, spirits, gods, monsters and sorcerers",
    "villain": "schemers, usurpers, murderers, bandits, pirates and their accomplices",
    "commoner": "townsfolk, tradesmen, shepherds, sailors, hosts, citizens, rogues",
}
