/**
 * The authorization matrix: what every op answers to every kind of caller, in every kind
 * of channel. docs/protocol.md §4 "Who may do what" (and each op's "Who" in §5) is the
 * rule; this table is that rule spelled out case by case, and
 * test/authorization-matrix.test.ts runs every cell over the WebSocket and over each HTTP
 * route of the op, and fails when an op or a route has no row.
 *
 * Columns, the callers:
 *   own   the channel's creator (site role member; channel role owner). In a DM or group DM,
 *         the one who opened it (channel role member, as everyone there).
 *   adm   a site admin;  mod  a site moderator;  mem  a site member;  gst  a guest.
 *   +     the caller is a member of the channel;  -  the caller is not.
 *   A "-" caller of a `:own` row wrote the message (scheduled it, uploaded the file) while a
 *   member, then left.
 *
 * Kinds, the channel the op is about:
 *   pub, priv      a public or private channel
 *   dm, gdm        a direct message (2 people) or a group DM (3 to 8)
 *   apub, apriv    an archived public or private channel (archived after everything in it
 *                  was written)
 *   -              no channel: a user or connection op. "+" and "-" differ only in whether
 *                  the caller shares a public channel with `own`.
 *
 * Outcomes:
 *   ok  succeeds (for ops that list things: and the thing is in the list)
 *   0   succeeds, but the channel (message, user) is not in the list: it is hidden
 *   nf  not_found    fb  forbidden    br  bad_request    cf  conflict
 *   na  no such case (one cannot leave a DM, so a "-" caller never wrote in it)
 *
 * What each row does (its args, which message or file it names) is in the runner's `specs`.
 * Rows named `op:variant` are the same op on another target: `:own` the caller's own
 * message, schedule or upload; `:owner` the channel's owner as the target;
 * `:unshared` a file no message carries; `:avatar` `own`'s avatar; `:self` a DM with oneself.
 */

/** Who calls, in table order. */
export const callers = ["own", "adm+", "adm-", "mod+", "mod-", "mem+", "mem-", "gst+", "gst-"] as const;
/** One caller column. */
export type CallerColumn = (typeof callers)[number];
/** The channel kinds of the rows. */
export const kinds = ["pub", "priv", "dm", "gdm", "apub", "apriv", "-"] as const;
/** One channel kind. */
export type KindColumn = (typeof kinds)[number];
/** What a cell may say. */
export const outcomes = ["ok", "0", "nf", "fb", "br", "cf", "na"] as const;
/** One cell. */
export type Outcome = (typeof outcomes)[number];

const table = `
op                       kind    own  adm+ adm- mod+ mod- mem+ mem- gst+ gst-

# ---- connection and user ops -------------------------------------------------------
auth                     -       cf   cf   cf   cf   cf   cf   cf   cf   cf
ping                     -       ok   ok   ok   ok   ok   ok   ok   ok   ok
ch.create                -       ok   ok   ok   ok   ok   ok   ok   fb   fb
dm.open:self             -       ok   ok   ok   ok   ok   ok   ok   ok   ok
user.me                  -       ok   ok   ok   ok   ok   ok   ok   ok   ok
user.get                 -       ok   ok   ok   ok   ok   ok   ok   ok   ok
user.update              -       ok   ok   ok   ok   ok   ok   ok   ok   ok
user.settings.get        -       ok   ok   ok   ok   ok   ok   ok   ok   ok
user.settings.set        -       ok   ok   ok   ok   ok   ok   ok   ok   ok
presence.set             -       ok   ok   ok   ok   ok   ok   ok   ok   ok
search.users             -       ok   ok   ok   ok   ok   ok   ok   ok   ok
user.avatar.begin        -       ok   ok   ok   ok   ok   ok   ok   ok   ok
file.complete:avatar     -       ok   nf   nf   nf   nf   nf   nf   nf   nf
file.get:avatar          -       ok   ok   ok   ok   ok   ok   ok   ok   ok

# ---- administration (issue 23): admins only; about a user of their own per case -------
user.deactivate          -       fb   ok   ok   fb   fb   fb   fb   fb   fb
user.reactivate          -       fb   ok   ok   fb   fb   fb   fb   fb   fb
role.set                 -       fb   ok   ok   fb   fb   fb   fb   fb   fb
users.list               -       fb   ok   ok   fb   fb   fb   fb   fb   fb
audit.list               -       fb   ok   ok   fb   fb   fb   fb   fb   fb
audit.verify             -       fb   ok   ok   fb   fb   fb   fb   fb   fb

# ---- what a caller is shown of a channel ---------------------------------------------
ch.list                  pub     ok   ok   ok   ok   ok   ok   ok   ok   0
ch.list                  priv    ok   ok   0    ok   0    ok   0    ok   0
ch.list                  dm      ok   ok   0    ok   0    ok   0    ok   0
ch.list                  gdm     ok   ok   0    ok   0    ok   0    ok   0
ch.list                  apub    ok   ok   ok   ok   ok   ok   ok   ok   0
ch.list                  apriv   ok   ok   0    ok   0    ok   0    ok   0

search                   pub     ok   ok   ok   ok   ok   ok   ok   ok   0
search                   priv    ok   ok   0    ok   0    ok   0    ok   0
search                   dm      ok   ok   0    ok   0    ok   0    ok   0
search                   gdm     ok   ok   0    ok   0    ok   0    ok   0
search                   apub    ok   ok   ok   ok   ok   ok   ok   ok   0
search                   apriv   ok   ok   0    ok   0    ok   0    ok   0

unread.summary           pub     ok   ok   0    ok   0    ok   0    ok   0
unread.summary           priv    ok   ok   0    ok   0    ok   0    ok   0
unread.summary           dm      ok   ok   0    ok   0    ok   0    ok   0
unread.summary           gdm     ok   ok   0    ok   0    ok   0    ok   0
unread.summary           apub    ok   ok   0    ok   0    ok   0    ok   0
unread.summary           apriv   ok   ok   0    ok   0    ok   0    ok   0

presence.query           pub     ok   ok   0    ok   0    ok   0    ok   0
presence.query           priv    ok   ok   0    ok   0    ok   0    ok   0
presence.query           dm      ok   ok   0    ok   0    ok   0    ok   0
presence.query           gdm     ok   ok   0    ok   0    ok   0    ok   0
presence.query           apub    ok   ok   0    ok   0    ok   0    ok   0
presence.query           apriv   ok   ok   0    ok   0    ok   0    ok   0

# ---- DMs: "-" opens a new conversation with the people of one it is not in --------------
dm.open                  dm      ok   ok   ok   ok   ok   ok   ok   ok   fb
dm.open                  gdm     ok   ok   ok   ok   ok   ok   ok   ok   fb

# ---- the channel and its members -------------------------------------------------------
ch.get                   pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
ch.get                   priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
ch.get                   dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
ch.get                   gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
ch.get                   apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
ch.get                   apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

ch.members               pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
ch.members               priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
ch.members               dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
ch.members               gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
ch.members               apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
ch.members               apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

ch.update                pub     ok   ok   ok   fb   fb   fb   fb   fb   nf
ch.update                priv    ok   ok   nf   fb   nf   fb   nf   fb   nf
ch.update                dm      fb   fb   nf   fb   nf   fb   nf   fb   nf
ch.update                gdm     fb   ok   nf   fb   nf   fb   nf   fb   nf
ch.update                apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
ch.update                apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

ch.archive               pub     ok   ok   ok   fb   fb   fb   fb   fb   nf
ch.archive               priv    ok   ok   ok   fb   nf   fb   nf   fb   nf
ch.archive               dm      fb   fb   nf   fb   nf   fb   nf   fb   nf
ch.archive               gdm     fb   fb   nf   fb   nf   fb   nf   fb   nf
ch.archive               apub    ok   ok   ok   fb   fb   fb   fb   fb   nf
ch.archive               apriv   ok   ok   ok   fb   nf   fb   nf   fb   nf

ch.join                  pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
ch.join                  priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
ch.join                  dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
ch.join                  gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
ch.join                  apub    ok   ok   fb   ok   fb   ok   fb   ok   nf
ch.join                  apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

ch.invite                pub     ok   ok   fb   ok   fb   ok   fb   fb   nf
ch.invite                priv    ok   ok   nf   ok   nf   ok   nf   fb   nf
ch.invite                dm      fb   fb   nf   fb   nf   fb   nf   fb   nf
ch.invite                gdm     fb   fb   nf   fb   nf   fb   nf   fb   nf
ch.invite                apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
ch.invite                apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

ch.leave                 pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
ch.leave                 priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
ch.leave                 dm      fb   fb   nf   fb   nf   fb   nf   fb   nf
ch.leave                 gdm     fb   fb   nf   fb   nf   fb   nf   fb   nf
ch.leave                 apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
ch.leave                 apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

ch.kick                  pub     ok   ok   ok   ok   ok   fb   fb   fb   nf
ch.kick                  priv    ok   ok   nf   ok   nf   fb   nf   fb   nf
ch.kick                  dm      fb   fb   nf   fb   nf   fb   nf   fb   nf
ch.kick                  gdm     fb   fb   nf   fb   nf   fb   nf   fb   nf
ch.kick                  apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
ch.kick                  apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

ch.kick:owner            pub     br   ok   ok   fb   fb   fb   fb   fb   nf
ch.kick:owner            priv    br   ok   nf   fb   nf   fb   nf   fb   nf
ch.kick:owner            dm      br   fb   nf   fb   nf   fb   nf   fb   nf
ch.kick:owner            gdm     br   fb   nf   fb   nf   fb   nf   fb   nf
ch.kick:owner            apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
ch.kick:owner            apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

sub                      pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
sub                      priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
sub                      dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
sub                      gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
sub                      apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
sub                      apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

unsub                    pub     ok   ok   ok   ok   ok   ok   ok   ok   ok
unsub                    priv    ok   ok   ok   ok   ok   ok   ok   ok   ok
unsub                    dm      ok   ok   ok   ok   ok   ok   ok   ok   ok
unsub                    gdm     ok   ok   ok   ok   ok   ok   ok   ok   ok
unsub                    apub    ok   ok   ok   ok   ok   ok   ok   ok   ok
unsub                    apriv   ok   ok   ok   ok   ok   ok   ok   ok   ok

read.mark                pub     ok   ok   nf   ok   nf   ok   nf   ok   nf
read.mark                priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
read.mark                dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
read.mark                gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
read.mark                apub    ok   ok   nf   ok   nf   ok   nf   ok   nf
read.mark                apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

typing                   pub     ok   ok   fb   ok   fb   ok   fb   ok   nf
typing                   priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
typing                   dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
typing                   gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
typing                   apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
typing                   apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

# ---- messages: the target is own's message unless the row says :own ------------------
msg.send                 pub     ok   ok   fb   ok   fb   ok   fb   ok   nf
msg.send                 priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.send                 dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.send                 gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.send                 apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
msg.send                 apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

msg.history              pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
msg.history              priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.history              dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.history              gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.history              apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
msg.history              apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

msg.edit                 pub     ok   fb   fb   fb   fb   fb   fb   fb   nf
msg.edit                 priv    ok   fb   nf   fb   nf   fb   nf   fb   nf
msg.edit                 dm      ok   fb   nf   fb   nf   fb   nf   fb   nf
msg.edit                 gdm     ok   fb   nf   fb   nf   fb   nf   fb   nf
msg.edit                 apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
msg.edit                 apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

msg.edit:own             pub     ok   ok   fb   ok   fb   ok   fb   ok   nf
msg.edit:own             priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.edit:own             dm      ok   ok   na   ok   na   ok   na   ok   na
msg.edit:own             gdm     ok   ok   na   ok   na   ok   na   ok   na
msg.edit:own             apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
msg.edit:own             apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

msg.delete               pub     ok   ok   ok   ok   ok   fb   fb   fb   nf
msg.delete               priv    ok   ok   nf   ok   nf   fb   nf   fb   nf
msg.delete               dm      ok   ok   nf   ok   nf   fb   nf   fb   nf
msg.delete               gdm     ok   ok   nf   ok   nf   fb   nf   fb   nf
msg.delete               apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
msg.delete               apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

msg.delete:own           pub     ok   ok   ok   ok   ok   ok   fb   ok   nf
msg.delete:own           priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.delete:own           dm      ok   ok   na   ok   na   ok   na   ok   na
msg.delete:own           gdm     ok   ok   na   ok   na   ok   na   ok   na
msg.delete:own           apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
msg.delete:own           apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

msg.versions             pub     ok   ok   ok   ok   ok   fb   fb   fb   nf
msg.versions             priv    ok   ok   nf   ok   nf   fb   nf   fb   nf
msg.versions             dm      ok   ok   nf   ok   nf   fb   nf   fb   nf
msg.versions             gdm     ok   ok   nf   ok   nf   fb   nf   fb   nf
msg.versions             apub    ok   ok   ok   ok   ok   fb   fb   fb   nf
msg.versions             apriv   ok   ok   nf   ok   nf   fb   nf   fb   nf

msg.versions:own         pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
msg.versions:own         priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.versions:own         dm      ok   ok   na   ok   na   ok   na   ok   na
msg.versions:own         gdm     ok   ok   na   ok   na   ok   na   ok   na
msg.versions:own         apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
msg.versions:own         apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

thread.history           pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
thread.history           priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
thread.history           dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
thread.history           gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
thread.history           apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
thread.history           apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

thread.follow            pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
thread.follow            priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
thread.follow            dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
thread.follow            gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
thread.follow            apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
thread.follow            apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

thread.unfollow          pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
thread.unfollow          priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
thread.unfollow          dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
thread.unfollow          gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
thread.unfollow          apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
thread.unfollow          apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

react.add                pub     ok   ok   fb   ok   fb   ok   fb   ok   nf
react.add                priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
react.add                dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
react.add                gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
react.add                apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
react.add                apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

react.remove             pub     ok   ok   fb   ok   fb   ok   fb   ok   nf
react.remove             priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
react.remove             dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
react.remove             gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
react.remove             apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
react.remove             apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

pin.add                  pub     ok   ok   fb   ok   fb   ok   fb   ok   nf
pin.add                  priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
pin.add                  dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
pin.add                  gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
pin.add                  apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
pin.add                  apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

pin.remove               pub     ok   ok   fb   ok   fb   ok   fb   ok   nf
pin.remove               priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
pin.remove               dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
pin.remove               gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
pin.remove               apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
pin.remove               apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

pin.list                 pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
pin.list                 priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
pin.list                 dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
pin.list                 gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
pin.list                 apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
pin.list                 apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

# ---- scheduled messages: the target is own's schedule unless the row says :own --------
msg.schedule             pub     ok   ok   fb   ok   fb   ok   fb   ok   nf
msg.schedule             priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.schedule             dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.schedule             gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.schedule             apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
msg.schedule             apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

msg.scheduled.list       pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
msg.scheduled.list       priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.scheduled.list       dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.scheduled.list       gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.scheduled.list       apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
msg.scheduled.list       apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

msg.scheduled.cancel     pub     ok   nf   nf   nf   nf   nf   nf   nf   nf
msg.scheduled.cancel     priv    ok   nf   nf   nf   nf   nf   nf   nf   nf
msg.scheduled.cancel     dm      ok   nf   nf   nf   nf   nf   nf   nf   nf
msg.scheduled.cancel     gdm     ok   nf   nf   nf   nf   nf   nf   nf   nf
msg.scheduled.cancel     apub    ok   nf   nf   nf   nf   nf   nf   nf   nf
msg.scheduled.cancel     apriv   ok   nf   nf   nf   nf   nf   nf   nf   nf

msg.scheduled.cancel:own pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
msg.scheduled.cancel:own priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.scheduled.cancel:own dm      ok   ok   na   ok   na   ok   na   ok   na
msg.scheduled.cancel:own gdm     ok   ok   na   ok   na   ok   na   ok   na
msg.scheduled.cancel:own apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
msg.scheduled.cancel:own apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

# ---- files: the target is own's upload unless the row says :own -------------------------
file.begin               pub     ok   ok   fb   ok   fb   ok   fb   ok   nf
file.begin               priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
file.begin               dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
file.begin               gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
file.begin               apub    fb   fb   fb   fb   fb   fb   fb   fb   nf
file.begin               apriv   fb   fb   nf   fb   nf   fb   nf   fb   nf

file.complete            pub     ok   nf   nf   nf   nf   nf   nf   nf   nf
file.complete            priv    ok   nf   nf   nf   nf   nf   nf   nf   nf
file.complete            dm      ok   nf   nf   nf   nf   nf   nf   nf   nf
file.complete            gdm     ok   nf   nf   nf   nf   nf   nf   nf   nf
file.complete            apub    ok   nf   nf   nf   nf   nf   nf   nf   nf
file.complete            apriv   ok   nf   nf   nf   nf   nf   nf   nf   nf

file.complete:own        pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
file.complete:own        priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
file.complete:own        dm      ok   ok   na   ok   na   ok   na   ok   na
file.complete:own        gdm     ok   ok   na   ok   na   ok   na   ok   na
file.complete:own        apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
file.complete:own        apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

file.get                 pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
file.get                 priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
file.get                 dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
file.get                 gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
file.get                 apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
file.get                 apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

file.get:unshared        pub     ok   nf   nf   nf   nf   nf   nf   nf   nf
file.get:unshared        priv    ok   nf   nf   nf   nf   nf   nf   nf   nf
file.get:unshared        dm      ok   nf   nf   nf   nf   nf   nf   nf   nf
file.get:unshared        gdm     ok   nf   nf   nf   nf   nf   nf   nf   nf
file.get:unshared        apub    ok   nf   nf   nf   nf   nf   nf   nf   nf
file.get:unshared        apriv   ok   nf   nf   nf   nf   nf   nf   nf   nf

file.get:own             pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
file.get:own             priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
file.get:own             dm      ok   ok   na   ok   na   ok   na   ok   na
file.get:own             gdm     ok   ok   na   ok   na   ok   na   ok   na
file.get:own             apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
file.get:own             apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

# ---- moderation (issue 23): site moderators and admins, members of the channel or not ---
# msg.flag: anyone who can read the message (own's thread root). msg.remove: a new message
# of own's. flag.resolve: a new flag (own's, of a new message of own's), dismissed.
msg.flag                 pub     ok   ok   ok   ok   ok   ok   ok   ok   nf
msg.flag                 priv    ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.flag                 dm      ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.flag                 gdm     ok   ok   nf   ok   nf   ok   nf   ok   nf
msg.flag                 apub    ok   ok   ok   ok   ok   ok   ok   ok   nf
msg.flag                 apriv   ok   ok   nf   ok   nf   ok   nf   ok   nf

msg.remove               pub     fb   ok   ok   ok   ok   fb   fb   fb   fb
msg.remove               priv    fb   ok   ok   ok   ok   fb   fb   fb   fb
msg.remove               dm      fb   ok   ok   ok   ok   fb   fb   fb   fb
msg.remove               gdm     fb   ok   ok   ok   ok   fb   fb   fb   fb
msg.remove               apub    fb   ok   ok   ok   ok   fb   fb   fb   fb
msg.remove               apriv   fb   ok   ok   ok   ok   fb   fb   fb   fb

flags.list               -       fb   ok   ok   ok   ok   fb   fb   fb   fb

flag.resolve             pub     fb   ok   ok   ok   ok   fb   fb   fb   fb
flag.resolve             priv    fb   ok   ok   ok   ok   fb   fb   fb   fb
flag.resolve             dm      fb   ok   ok   ok   ok   fb   fb   fb   fb
flag.resolve             gdm     fb   ok   ok   ok   ok   fb   fb   fb   fb
flag.resolve             apub    fb   ok   ok   ok   ok   fb   fb   fb   fb
flag.resolve             apriv   fb   ok   ok   ok   ok   fb   fb   fb   fb
`;

/** One row: a named case of an op, in one kind of channel, with one outcome per caller. */
export interface AuthorizationRow {
  /** `op` or `op:variant`. */
  name: string;
  op: string;
  kind: KindColumn;
  cells: Record<CallerColumn, Outcome>;
  /** 1-based line in the table, for messages. */
  line: number;
}

/** The table's rows. Throws on a malformed line, so a typo fails every test of the matrix. */
export function authorizationRows(): AuthorizationRow[] {
  const rows: AuthorizationRow[] = [];
  table.split("\n").forEach((text, i) => {
    const line = i + 1;
    const words = text.trim().split(/\s+/);
    if (words[0] === "" || words[0]!.startsWith("#") || words[0] === "op") return;
    const [name, kind, ...cells] = words as [string, string, ...string[]];
    if (!(kinds as readonly string[]).includes(kind)) throw new Error(`line ${line}: unknown kind ${kind}`);
    if (cells.length !== callers.length) throw new Error(`line ${line}: ${cells.length} cells`);
    const bad = cells.find((c) => !(outcomes as readonly string[]).includes(c));
    if (bad !== undefined) throw new Error(`line ${line}: unknown outcome ${bad}`);
    rows.push({
      name,
      op: name.split(":")[0]!,
      kind: kind as KindColumn,
      cells: Object.fromEntries(callers.map((c, j) => [c, cells[j]])) as Record<CallerColumn, Outcome>,
      line,
    });
  });
  return rows;
}
