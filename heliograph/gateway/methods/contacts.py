"""Finding users, and the contact list."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from heliograph.domain.entities import User
from heliograph.gateway.methods import Context, NoParams, Params, method
from heliograph.gateway.methods.account import Ok
from heliograph.services import profiles

UserId = Annotated[int, Field(ge=1, le=2**53)]


class GetUsers(Params):
    user_ids: Annotated[list[UserId], Field(min_length=1, max_length=100)]


@method("getUsers", GetUsers, list[User], group="Users")
async def get_users(ctx: Context, p: GetUsers) -> list[User]:
    """Profiles by id. `online` and `last_seen` are null where the user's privacy hides them."""
    return await profiles.get_users(ctx.app, ctx.user, p.user_ids)


class ResolveUsername(Params):
    username: Annotated[str, Field(min_length=1, max_length=64)]


@method("resolveUsername", ResolveUsername, User, group="Users")
async def resolve_username(ctx: Context, p: ResolveUsername) -> User:
    """Find a user by their exact username (case-insensitive, with or without @)."""
    return await profiles.resolve_username(ctx.app, ctx.user, p.username)


class SearchUsers(Params):
    query: Annotated[str, Field(min_length=1, max_length=64)]
    limit: Annotated[int, Field(ge=1, le=100)] = 20


@method("searchUsers", SearchUsers, list[User], group="Users")
async def search_users(ctx: Context, p: SearchUsers) -> list[User]:
    """Users whose username starts with the query."""
    return await profiles.search_users(ctx.app, ctx.user, p.query, p.limit)


@method("getContacts", NoParams, list[User], group="Contacts")
async def get_contacts(ctx: Context, p: NoParams) -> list[User]:
    """The contact list."""
    return await profiles.get_contacts(ctx.app, ctx.user)


class ContactParams(Params):
    user_id: UserId


@method("addContact", ContactParams, User, group="Contacts")
async def add_contact(ctx: Context, p: ContactParams) -> User:
    """Add a user to the contact list."""
    return await profiles.add_contact(ctx.app, ctx.user, p.user_id)


@method("removeContact", ContactParams, Ok, group="Contacts")
async def remove_contact(ctx: Context, p: ContactParams) -> Ok:
    """Remove a user from the contact list."""
    await profiles.remove_contact(ctx.app, ctx.user, p.user_id)
    return Ok()
