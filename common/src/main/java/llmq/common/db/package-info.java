/** PostgreSQL schema migrations and connection settings shared by the services that use the database. */
package llmq.common.db;
