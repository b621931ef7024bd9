"""``Network``: the VPC (isolated, public-for-NAT and egress subnets), flow logs, endpoints and
the Lambda security groups the database admits."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2

from stacks.config import DeploymentConfig
from stacks.constructs.domain_function import log_group
from stacks.constructs.framework import harden_singleton_provider

ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
# Private subnets routed to the internet through NAT gateways: only for functions that must
# call arbitrary HTTPS endpoints (outbound webhooks). Everything AWS goes through endpoints.
EGRESS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

# Interface endpoints the isolated subnets need (S3 is a gateway endpoint, added separately).
# "Email" is the SES API (email.<region>.amazonaws.com): the e-mail consumer sends through it
# from an isolated subnet.
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Email": ec2.InterfaceVpcEndpointAwsService.EMAIL,
}


class Network:
    """VPC with no public addresses but the NAT gateways' Elastic IPs (see ``DataStack``).

    Built in ``stack``'s own scope (stacks/constructs/__init__.py says why).
    """

    def __init__(self, stack: Stack, *, config: DeploymentConfig) -> None:
        self.vpc = ec2.Vpc(
            stack,
            "Vpc",
            max_azs=config.vpc_max_azs,
            nat_gateways=config.nat_gateway_count,
            # "isolated" stays first so that its CIDR blocks do not move; the groups added
            # after it take the next free ranges.
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                ),
                # Holds the NAT gateways only (they bring their own Elastic IPs).
                ec2.SubnetConfiguration(
                    name="public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=26,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name="egress", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ],
            restrict_default_security_group=True,
        )
        self.isolated_subnets = ISOLATED
        self.egress_subnets = EGRESS
        harden_singleton_provider(
            stack,
            "Custom::VpcRestrictDefaultSGCustomResourceProvider",
            users=[self.vpc.node.find_child("RestrictDefaultSecurityGroupCustomResource")],
            config=config,
        )
        flow_logs = log_group(stack, "FlowLogs", config)
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[ISOLATED]
        )

        # Functions that talk to the database through the proxy share this group.
        self.db_client_sg = ec2.SecurityGroup(
            stack,
            "DbClientSg",
            vpc=self.vpc,
            description="Lambda functions that reach RDS Proxy",
            allow_all_outbound=True,
        )
        # Rotation and migration Lambdas reach the cluster directly.
        self.db_admin_sg = ec2.SecurityGroup(
            stack,
            "DbAdminSg",
            vpc=self.vpc,
            description="Secret rotation and migration Lambdas (direct cluster access)",
            allow_all_outbound=True,
        )
        # The identity function alone (it is the one that reaches the tenants' identity
        # providers and directories): HTTPS out (OIDC discovery, JWKS and token endpoints,
        # SAML metadata, the breached-password API, AWS APIs), the database proxy (the
        # Database construct adds that rule) and, with ``ldapDirectoryCidrs``, those
        # networks on the LDAP ports. Nothing else (docs/identity.md).
        self.identity_sg = ec2.SecurityGroup(
            stack,
            "IdentitySg",
            vpc=self.vpc,
            description="Identity function: HTTPS, the database proxy, the tenants LDAP or AD",
            allow_all_outbound=False,
        )
        self.identity_sg.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: identity providers and AWS APIs"
        )
        for cidr in config.ldap_directory_cidrs:
            peer = ec2.Peer.ipv6(cidr) if ":" in cidr else ec2.Peer.ipv4(cidr)
            for port in config.ldap_directory_ports:
                self.identity_sg.add_egress_rule(peer, ec2.Port.tcp(port), f"LDAP {port} to {cidr}")
        self._add_interface_endpoints(stack)

    def _add_interface_endpoints(self, stack: Stack) -> None:
        # Interface endpoints admit HTTPS from the Lambda security groups only.
        endpoint_sg = ec2.SecurityGroup(
            stack,
            "EndpointSg",
            vpc=self.vpc,
            description="VPC interface endpoints",
            allow_all_outbound=False,
        )
        for client in (self.db_client_sg, self.db_admin_sg, self.identity_sg):
            endpoint_sg.add_ingress_rule(client, ec2.Port.tcp(443), "HTTPS from Lambda")
        for name, service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=service,
                subnets=ISOLATED,
                private_dns_enabled=True,
                security_groups=[endpoint_sg],
                open=False,
            )
