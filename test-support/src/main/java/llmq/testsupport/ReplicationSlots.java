package llmq.testsupport;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Replication slots of the shared test PostgreSQL: a slot left behind would hold WAL for the rest of the run. */
public final class ReplicationSlots {

    private ReplicationSlots() {
    }

    /** Drops {@code slot} once no engine holds it (bounded wait). */
    public static void drop(Infra infra, String slot) {
        boolean inactive = KafkaIo.until(() -> !active(infra, slot), Boolean::booleanValue);
        if (!inactive) {
            throw new IllegalStateException("replication slot " + slot + " still in use");
        }
        try (Connection c = infra.postgres().superuser();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            ps.execute();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop slot " + slot, e);
        }
    }

    private static boolean active(Infra infra, String slot) {
        try (Connection c = infra.postgres().superuser();
             PreparedStatement ps = c.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            return true;
        }
    }
}
