"""Issue 5: the lifecycle table, tested exhaustively — every (state, action) pair is either the
documented move or a 409 naming the current state."""

import itertools

import pytest

from tollgate.domain.errors import Conflict
from tollgate.domain.subscriptions import TRANSITIONS, Action, SubscriptionStatus, transition

S, A = SubscriptionStatus, Action

# The table as the README documents it, written out independently of the code.
DOCUMENTED = {
    (S.TRIALING, A.END_TRIAL): S.ACTIVE,
    (S.TRIALING, A.CANCEL): S.CANCELLED,
    (S.TRIALING, A.EXPIRE): S.EXPIRED,
    (S.TRIALING, A.CHANGE_PLAN): S.TRIALING,
    (S.ACTIVE, A.PAYMENT_FAILED): S.PAST_DUE,
    (S.ACTIVE, A.PAYMENT_SUCCEEDED): S.ACTIVE,
    (S.ACTIVE, A.CANCEL): S.CANCELLED,
    (S.ACTIVE, A.EXPIRE): S.EXPIRED,
    (S.ACTIVE, A.CHANGE_PLAN): S.ACTIVE,
    (S.PAST_DUE, A.PAYMENT_FAILED): S.PAST_DUE,
    (S.PAST_DUE, A.PAYMENT_SUCCEEDED): S.ACTIVE,
    (S.PAST_DUE, A.CANCEL): S.CANCELLED,
    (S.PAST_DUE, A.CHANGE_PLAN): S.PAST_DUE,
}


def test_the_code_table_is_the_documented_table():
    assert TRANSITIONS == DOCUMENTED


@pytest.mark.parametrize("state, action", list(itertools.product(S, A)))
def test_every_state_action_pair_is_the_documented_move_or_a_409(state, action):
    if (state, action) in DOCUMENTED:
        assert transition(state, action) is DOCUMENTED[(state, action)]
    else:
        with pytest.raises(Conflict) as conflict:
            transition(state, action)
        assert conflict.value.status == 409
        assert state.value in conflict.value.detail or "already cancelled" in conflict.value.detail
        assert conflict.value.extra["status_now"] == state.value


def test_a_trialing_subscription_can_be_cancelled():
    assert transition(S.TRIALING, A.CANCEL) is S.CANCELLED


def test_cancelling_twice_says_it_is_already_cancelled():
    with pytest.raises(Conflict) as conflict:
        transition(S.CANCELLED, A.CANCEL)
    assert "already cancelled" in conflict.value.detail


@pytest.mark.parametrize("terminal", [S.CANCELLED, S.EXPIRED])
def test_terminal_states_cannot_change_plan(terminal):
    with pytest.raises(Conflict) as conflict:
        transition(terminal, A.CHANGE_PLAN)
    assert "terminal" in conflict.value.detail
